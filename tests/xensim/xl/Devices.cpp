#include "Devices.h"

#include <string>
#include <utility>
#include <vector>

namespace xensim {

namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

constexpr uint32_t kBackendDomid = 0;
// XenbusStateInitialising: nothing on the other side has connected yet.
const char* const kStateInitialising = "1";

// `roFents`: frontend nodes the toolstack owns and the domain may only read
// (libxl__device_generic_add's ro_frontend_perms), e.g. the console's tty.
void addDevice(XenStore& xs, uint32_t domid, const std::string& kind, int devid,
               const std::string& frontend, Entries fents, Entries bents,
               const Entries& roFents = {}) {
    std::string backend = "/local/domain/0/backend/" + kind + "/" + std::to_string(domid) + "/" +
                          std::to_string(devid);
    Perms fperms{{domid, XS_PERM_NONE}, {kBackendDomid, XS_PERM_READ}};
    Perms bperms{{kBackendDomid, XS_PERM_NONE}, {domid, XS_PERM_READ}};
    const Perms& roperms = bperms;
    fents.insert(fents.begin(), {{"backend", backend},
                                 {"backend-id", std::to_string(kBackendDomid)},
                                 {"state", kStateInitialising}});
    bents.insert(bents.begin(), {{"frontend", frontend},
                                 {"frontend-id", std::to_string(domid)},
                                 {"online", "1"},
                                 {"state", kStateInitialising}});
    inTransaction(xs, [&](xs_transaction_t t) {
        xs.rm(frontend, t);
        xs.rm(backend, t);
        xs.mkdir(frontend, t);
        xs.setPerms(frontend, fperms, t);
        xs.mkdir(backend, t);
        xs.setPerms(backend, bperms, t);
        for (const auto& [k, v] : fents)
            xs.write(frontend + "/" + k, v, t);
        for (const auto& [k, v] : roFents) {
            xs.write(frontend + "/" + k, v, t);
            xs.setPerms(frontend + "/" + k, roperms, t);
        }
        for (const auto& [k, v] : bents)
            xs.write(backend + "/" + k, v, t);
    });
}

std::string frontendPath(uint32_t domid, const std::string& kind, int devid) {
    return "/local/domain/" + std::to_string(domid) + "/device/" + kind + "/" +
           std::to_string(devid);
}

Entries displayEntries(const Display& d) {
    return {{"vnc", d.vnc ? "1" : "0"},
            {"vnclisten", d.vnclisten},
            {"vncdisplay", std::to_string(d.vncdisplay)},
            {"vncunused", d.vncunused ? "1" : "0"},
            {"sdl", d.sdl ? "1" : "0"},
            {"opengl", d.opengl ? "1" : "0"},
            {"keymap", d.keymap}};
}

} // namespace

void addDevices(XenStore& xs, uint32_t domid, const GuestSpec& spec) {
    std::string dom = "/local/domain/" + std::to_string(domid);
    if (!spec.hvm)
        // The primary console's nodes are all libxl's ro_front (libxl__device_console_add):
        // xenconsoled, in dom0, fills in tty once it has made the pty.
        addDevice(xs, domid, "console", 0, dom + "/console", {}, {{"protocol", "vt100"}},
                  {{"limit", "1048576"},
                   {"type", "xenconsoled"},
                   {"output", "pty"},
                   {"tty", ""},
                   {"port", "2"},
                   {"ring-ref", "1"}});
    for (size_t i = 0; i < spec.vifs.size(); i++) {
        const Vif& v = spec.vifs[i];
        int devid = static_cast<int>(i);
        Entries bents{{"script", "/etc/xen/scripts/" + v.script},
                      {"mac", v.mac},
                      {"bridge", v.bridge},
                      {"handle", std::to_string(devid)},
                      {"type", spec.hvm ? "vif_ioemu" : "vif"}};
        if (!v.ip.empty())
            bents.emplace_back("ip", v.ip);
        addDevice(xs, domid, "vif", devid, frontendPath(domid, "vif", devid),
                  {{"handle", std::to_string(devid)}, {"mac", v.mac}}, bents);
    }
    for (size_t i = 0; i < spec.disks.size(); i++) {
        const Disk& d = spec.disks[i];
        // libxl numbers vbds by their virtual device; index order keeps them unique here.
        int devid = 51712 + static_cast<int>(i) * 16;
        std::string type = d.cdrom ? "cdrom" : "disk";
        addDevice(xs, domid, "vbd", devid, frontendPath(domid, "vbd", devid),
                  {{"virtual-device", std::to_string(devid)}, {"device-type", type}},
                  {{"params", d.target},
                   {"type", "phy"},
                   {"mode", d.writable ? "w" : "r"},
                   {"device-type", type},
                   {"dev", d.vdev},
                   {"removable", d.cdrom ? "1" : "0"},
                   {"bootable", "1"}});
    }
    for (size_t i = 0; i < spec.vfbs.size(); i++) {
        int devid = static_cast<int>(i);
        Entries bents = displayEntries(spec.vfbs[i]);
        if (!spec.vfbs[i].vncpasswd.empty())
            bents.emplace_back("vncpasswd", spec.vfbs[i].vncpasswd);
        addDevice(xs, domid, "vfb", devid, frontendPath(domid, "vfb", devid), {}, bents);
        addDevice(xs, domid, "vkb", devid, frontendPath(domid, "vkb", devid), {}, {});
    }
}

void removeBackends(XenStore& xs, uint32_t domid) {
    for (const auto& kind : xs.directory("/local/domain/0/backend"))
        xs.rm("/local/domain/0/backend/" + kind + "/" + std::to_string(domid));
}

} // namespace xensim
