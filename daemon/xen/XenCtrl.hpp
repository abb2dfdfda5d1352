// The Hypervisor interface over libxenctrl (the sim's shim when preloaded).
#pragma once

#include "core/Hypervisor.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct xc_interface_core;

namespace stubdomd {

class XenCtrl : public Hypervisor {
public:
    // Error(Internal) when the hypervisor interface cannot be opened.
    XenCtrl();
    ~XenCtrl() override;
    XenCtrl(const XenCtrl&) = delete;
    XenCtrl& operator=(const XenCtrl&) = delete;

    // Failures are Error(Internal, "<libxenctrl call> ...: <strerror>").
    std::vector<DomainInfo> listDomains() override;
    void setTarget(DomId stub, DomId guest) override;
    void crash(DomId domid) override;
    std::uint64_t freeMemoryKiB() override;
    void pause(DomId domid) override;
    void unpause(DomId domid) override;

    // "major.minor" plus the extra version ("4.17.0"): the D-Bus XenVersion property.
    std::string versionString();

private:
    struct Closer {
        void operator()(xc_interface_core* xch) const;
    };
    std::unique_ptr<xc_interface_core, Closer> xch_;
};

} // namespace stubdomd
