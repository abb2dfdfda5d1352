// The PV-GRUB service the daemon exports on D-Bus: the core's rules over the real files
// (kernel headers read here, xl configs parsed with libxlutil in daemon/xen).
#pragma once

#include "core/PvGrubService.hpp"

namespace stubdomd {

class PvGrubTool final : public PvGrubService {
public:
    explicit PvGrubTool(pvgrub::ImageDirs dirs) : dirs_(std::move(dirs)) {}

    pvgrub::ConfigResult config(const pvgrub::ConfigRequest& request, bool callerIsRoot) override;
    pvgrub::CheckReport check(const std::string& path, bool callerIsRoot) override;

    const pvgrub::ImageDirs& dirs() const { return dirs_; }

private:
    pvgrub::ImageDirs dirs_;
};

} // namespace stubdomd
