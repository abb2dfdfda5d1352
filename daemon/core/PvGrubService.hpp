// PV-GRUB's face towards the D-Bus layer (Manager.PvGrubConfig, Manager.PvGrubCheck).
// Implemented in daemon/pvgrub, which reads files; both calls only read.
#pragma once

#include "PvGrub.hpp"

#include <string>

namespace stubdomd {

class PvGrubService {
public:
    virtual ~PvGrubService() = default;

    // The daemon reads files as root: for a caller other than root (callerIsRoot false)
    // only files everyone may read are opened, else Error(AccessDenied).

    // See pvgrub::Rules::config for the errors.
    virtual pvgrub::ConfigResult config(const pvgrub::ConfigRequest& request,
                                        bool callerIsRoot) = 0;
    // Reads the PV guest's xl config at `path` (a regular file of at most 1 MiB) and
    // reports on it. Throws Error(InvalidConfig) when the file cannot be read or is not
    // valid xl syntax (libxlutil's "file:line: ...").
    virtual pvgrub::CheckReport check(const std::string& path, bool callerIsRoot) = 0;
};

} // namespace stubdomd
