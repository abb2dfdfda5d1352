#include "Commands.h"

#include "Devices.h"
#include "DomainTree.h"
#include "XlError.h"
#include "domops.h"
#include "procutil.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>

namespace xensim {

namespace {

// libxl__kill_xs_path: SIGHUP to the pid in device-model-pid. A pid the sim started
// for this domain is checked against its start time first.
void killDeviceModel(const Host& host, XenStore& xs, uint32_t domid) {
    auto pidStr = xs.read("/local/domain/" + std::to_string(domid) + "/image/device-model-pid");
    if (!pidStr)
        return;
    pid_t pid = static_cast<pid_t>(std::atoi(pidStr->c_str()));
    if (pid <= 1)
        return;
    DomainTable table(host, false);
    if (auto d = table.find(domid)) {
        for (int i = 0; i < d->nprocs; i++)
            if (d->procs[i].pid == pid) {
                xsim_proc_signal(pid, d->procs[i].start, SIGHUP);
                return;
            }
    }
    kill(pid, SIGHUP);
}

} // namespace

void destroyDomain(const Host& host, XenStore& xs, uint32_t domid) {
    std::string dom = "/local/domain/" + std::to_string(domid);
    // libxl_get_stubdom_id: a stub domain recorded for the guest goes first.
    if (auto stub = xs.read(dom + "/image/device-model-domid")) {
        uint32_t s = static_cast<uint32_t>(std::strtoul(stub->c_str(), nullptr, 10));
        bool exists;
        {
            DomainTable table(host, false);
            exists = s != 0 && s != domid && table.find(s).has_value();
        }
        if (exists)
            destroyDomain(host, xs, s);
    }
    killDeviceModel(host, xs, domid);
    xs.rm("/local/domain/0/device-model/" + std::to_string(domid));
    removeBackends(xs, domid);
    removeDomainTree(xs, domid);
    xsim_dom_destroy(host.dir().c_str(), domid);
    // libxl leaves the release to VIRQ_DOM_EXC; RELEASE as well makes @releaseDomain
    // independent of the VIRQ FIFO. Whichever comes second finds nothing to do.
    xs.release(domid);
}

int mainDestroy(const Args& args) {
    Host host;
    if (args.size() != 2)
        fail(2, "Usage: xl destroy [options] <Domain>");
    uint32_t domid = findDomain(host, args[1]);
    if (domid == 0)
        fail(kExitFailure, "Not destroying domain 0; use -f to force.\n"
                           "This can only be done when using a disaggregated hardware domain "
                           "and toolstack.\n");
    {
        DomainTable table(host, false);
        if (!table.find(domid).has_value()) {
            std::string d = "Domain " + std::to_string(domid) + ":";
            fail(kExitFailure, "libxl: error: libxl_domain.c: " + d + "Non-existant domain\n" +
                                   "libxl: error: libxl_domain.c: " + d +
                                   "Unable to destroy guest\n" + "libxl: error: libxl_domain.c: " +
                                   d + "Destruction of domain failed\ndestroy failed (rc=-6)");
        }
    }
    XenStore xs;
    destroyDomain(host, xs, domid);
    return 0;
}

} // namespace xensim
