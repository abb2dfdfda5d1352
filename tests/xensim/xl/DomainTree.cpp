#include "DomainTree.h"

#include <sys/time.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace xensim {

namespace {

std::string startTime() {
    timeval tv{};
    gettimeofday(&tv, nullptr);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%lld.%02d", static_cast<long long>(tv.tv_sec),
                  static_cast<int>(tv.tv_usec / 10000));
    return buf;
}

} // namespace

void makeDomainTree(XenStore& xs, uint32_t domid, const GuestSpec& g) {
    std::string dom = "/local/domain/" + std::to_string(domid);
    std::string vm = "/vm/" + uuidString(g.uuid);
    std::string libxl = "/libxl/" + std::to_string(domid);
    // Dom0 owns everything; the guest may read its own tree and write only the
    // subtrees it uses to talk back (rwperm: the guest owns them).
    Perms roperm{{0, XS_PERM_NONE}, {domid, XS_PERM_READ}};
    Perms rwperm{{domid, XS_PERM_NONE}};
    Perms noperm{{0, XS_PERM_NONE}};

    inTransaction(xs, [&](xs_transaction_t t) {
        xs.rm(dom, t);
        xs.mknod(dom, roperm, t);
        xs.rm(vm, t);
        xs.mknod(vm, roperm, t);
        xs.rm(libxl, t);
        xs.mknod(libxl, noperm, t);
        xs.mknod(libxl + "/device", noperm, t);
        xs.write(dom + "/vm", vm, t);
        xs.write(dom + "/name", g.name, t);
        xs.mknod(dom + "/cpu", roperm, t);
        xs.mknod(dom + "/memory", roperm, t);
        // xend_suspend_evtchn_compat is off by default: device stays read-only.
        xs.mknod(dom + "/device", roperm, t);
        xs.mknod(dom + "/device/suspend/event-channel", rwperm, t);
        xs.mknod(dom + "/control", roperm, t);
        if (g.hvm)
            xs.mknod(dom + "/hvmloader", roperm, t);
        std::vector<std::string> control{"shutdown", "feature-poweroff", "feature-reboot",
                                         "feature-suspend"};
        if (g.hvm)
            control.insert(control.end(), {"feature-s3", "feature-s4"});
        control.push_back("sysrq");
        for (const auto& c : control)
            xs.mknod(dom + "/control/" + c, rwperm, t);
        for (const char* sub : {"data", "drivers", "feature", "attr", "error"})
            xs.mknod(dom + "/" + sub, rwperm, t);
        xs.write(vm + "/uuid", uuidString(g.uuid), t);
        xs.write(vm + "/name", g.name, t);
        xs.write(dom + "/control/platform-feature-multiprocessor-suspend", "1", t);
        xs.write(dom + "/control/platform-feature-xs_reset_watches", "1", t);
        xs.write(libxl + "/type", g.hvm ? "hvm" : "pv", t);
    });
}

void finishDomainTree(XenStore& xs, uint32_t domid, const GuestSpec& g) {
    std::string dom = "/local/domain/" + std::to_string(domid);
    std::string vm = "/vm/" + uuidString(g.uuid);
    std::vector<std::pair<std::string, std::string>> local{
        {"memory/static-max", std::to_string(g.maxmemKib())},
        {"memory/target", std::to_string(g.memoryMiB * 1024)},
        {"memory/videoram", std::to_string(g.videoMiB * 1024)},
        {"domid", std::to_string(domid)},
        {"store/port", std::to_string(kStorePort)},
        {"store/ring-ref", std::to_string(kStoreMfn)},
    };
    for (long i = 0; i < g.vcpus; i++)
        local.emplace_back("cpu/" + std::to_string(i) + "/availability", "online");
    std::vector<std::pair<std::string, std::string>> vments;
    if (g.hvm) {
        local.insert(local.end(), {{"platform/acpi", g.acpi ? "1" : "0"},
                                   {"platform/acpi_s3", "1"},
                                   {"platform/acpi_s4", "1"},
                                   {"platform/acpi_laptop_slate", "0"},
                                   {"platform/device-model",
                                    g.deviceModel ? "qemu-xen-traditional" : "qemu-xen"}});
        vments = {{"rtc/timeoffset", ""}, {"image/ostype", "hvm"}, {"start_time", startTime()}};
    } else {
        vments = {{"image/ostype", "linux"},
                  {"image/kernel", g.kernel.value_or("")},
                  {"start_time", startTime()}};
        if (g.ramdisk)
            vments.emplace_back("image/ramdisk", *g.ramdisk);
        if (g.cmdline)
            vments.emplace_back("image/cmdline", *g.cmdline);
    }
    inTransaction(xs, [&](xs_transaction_t t) {
        for (const auto& [k, v] : local)
            xs.write(dom + "/" + k, v, t);
        for (const auto& [k, v] : vments)
            xs.write(vm + "/" + k, v, t);
    });
}

void removeDomainTree(XenStore& xs, uint32_t domid) {
    std::string dom = "/local/domain/" + std::to_string(domid);
    if (auto vm = xs.read(dom + "/vm"))
        xs.rm(*vm);
    xs.rm(dom);
    xs.rm("/libxl/" + std::to_string(domid));
    xs.rm(dom + "/hvmloader");
}

} // namespace xensim
