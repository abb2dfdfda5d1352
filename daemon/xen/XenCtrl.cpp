#include "xen/XenCtrl.hpp"

#include "loop/SystemError.hpp"

// xenctrl.h (4.17) declares its functions without C linkage for C++ callers.
extern "C" {
#include <xenctrl.h>
}

#include <algorithm>
#include <cstring>

namespace stubdomd {

namespace {

// One hypercall covers up to this many domains; more than that is a rare host.
constexpr unsigned listBatch = 1024;
constexpr std::uint64_t kibPerPage = XC_PAGE_SIZE / 1024;

} // namespace

void XenCtrl::Closer::operator()(xc_interface_core* xch) const {
    xc_interface_close(xch);
}

XenCtrl::XenCtrl() : xch_(xc_interface_open(nullptr, nullptr, 0)) {
    if (!xch_)
        throw systemError("xc_interface_open");
}

XenCtrl::~XenCtrl() = default;

std::vector<DomainInfo> XenCtrl::listDomains() {
    std::vector<DomainInfo> domains;
    std::vector<xc_domaininfo_t> batch(listBatch);
    std::uint32_t first = 0;
    for (;;) {
        int n = xc_domain_getinfolist(xch_.get(), first, listBatch, batch.data());
        if (n < 0)
            throw systemError("xc_domain_getinfolist from domain " + std::to_string(first));
        for (int i = 0; i < n; ++i) {
            const auto& raw = batch[static_cast<std::size_t>(i)];
            DomainInfo info;
            info.domid = raw.domain;
            info.hvm = raw.flags & XEN_DOMINF_hvm_guest;
            info.dying = raw.flags & XEN_DOMINF_dying;
            info.shutdown = raw.flags & XEN_DOMINF_shutdown;
            info.paused = raw.flags & XEN_DOMINF_paused;
            info.shutdownReason = (raw.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
            info.memoryKiB = raw.tot_pages * kibPerPage;
            info.cpuTimeNs = raw.cpu_time;
            domains.push_back(info);
        }
        if (static_cast<unsigned>(n) < listBatch)
            break;
        first = batch[listBatch - 1].domain + 1u;
    }
    // The interface promises domid order; Xen gives it, a shim need not.
    std::sort(domains.begin(), domains.end(),
              [](const DomainInfo& a, const DomainInfo& b) { return a.domid < b.domid; });
    return domains;
}

void XenCtrl::setTarget(DomId stub, DomId guest) {
    if (xc_domain_set_target(xch_.get(), stub, guest) < 0)
        throw systemError("xc_domain_set_target " + std::to_string(stub) + " -> " +
                          std::to_string(guest));
}

void XenCtrl::crash(DomId domid) {
    if (xc_domain_shutdown(xch_.get(), domid, SHUTDOWN_crash) < 0)
        throw systemError("xc_domain_shutdown crash " + std::to_string(domid));
}

void XenCtrl::pause(DomId domid) {
    if (xc_domain_pause(xch_.get(), domid) < 0)
        throw systemError("xc_domain_pause " + std::to_string(domid));
}

void XenCtrl::unpause(DomId domid) {
    if (xc_domain_unpause(xch_.get(), domid) < 0)
        throw systemError("xc_domain_unpause " + std::to_string(domid));
}

std::uint64_t XenCtrl::freeMemoryKiB() {
    xc_physinfo_t info{};
    if (xc_physinfo(xch_.get(), &info) < 0)
        throw systemError("xc_physinfo");
    return info.free_pages * kibPerPage;
}

std::string XenCtrl::versionString() {
    int version = xc_version(xch_.get(), XENVER_version, nullptr);
    if (version < 0)
        throw systemError("xc_version");
    xen_extraversion_t extra{};
    if (xc_version(xch_.get(), XENVER_extraversion, &extra) < 0)
        throw systemError("xc_version extraversion");
    return std::to_string(version >> 16) + "." + std::to_string(version & 0xffff) +
           std::string(extra, strnlen(extra, sizeof extra));
}

} // namespace stubdomd
