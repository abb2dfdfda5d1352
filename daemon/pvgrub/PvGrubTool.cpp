#include "pvgrub/PvGrubTool.hpp"

#include "xen/PvGrubConfigReader.hpp"

namespace stubdomd {

pvgrub::ConfigResult PvGrubTool::config(const pvgrub::ConfigRequest& request) {
    return rules_.config(request);
}

pvgrub::CheckReport PvGrubTool::check(const std::string& path) {
    return rules_.check(readPvGuestConfig(path));
}

} // namespace stubdomd
