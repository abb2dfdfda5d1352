#include "pvgrub/PvGrubTool.hpp"

#include "config/TextFile.hpp"
#include "pvgrub/CallerFile.hpp"
#include "pvgrub/KernelImage.hpp"
#include "xen/PvGrubConfigReader.hpp"

namespace stubdomd {

// The rules are cheap to make: one per call, reading files with the caller's rights.
pvgrub::ConfigResult PvGrubTool::config(const pvgrub::ConfigRequest& request, bool callerIsRoot) {
    pvgrub::KernelFileAccess files(callerIsRoot);
    return pvgrub::Rules(dirs_, files).config(request);
}

pvgrub::CheckReport PvGrubTool::check(const std::string& path, bool callerIsRoot) {
    std::string text = pvgrub::CallerFile(path, callerIsRoot).readAll(kMaxConfigFileSize);
    pvgrub::KernelFileAccess files(callerIsRoot);
    return pvgrub::Rules(dirs_, files).check(parsePvGuestConfig(text, path));
}

} // namespace stubdomd
