// The PV-GRUB service the daemon exports on D-Bus: the core's rules over the real files
// (kernel headers read here, xl configs read with libxlutil in daemon/xen).
#pragma once

#include "core/PvGrubService.hpp"
#include "pvgrub/KernelImage.hpp"

namespace stubdomd {

class PvGrubTool final : public PvGrubService {
public:
    explicit PvGrubTool(pvgrub::ImageDirs dirs) : rules_(std::move(dirs), files_) {}

    pvgrub::ConfigResult config(const pvgrub::ConfigRequest& request) override;
    pvgrub::CheckReport check(const std::string& path) override;

private:
    pvgrub::KernelFileAccess files_; // declared before rules_, which holds it
    pvgrub::Rules rules_;
};

} // namespace stubdomd
