// Manager.PvGrubConfig and Manager.PvGrubCheck: their a{sv} in and out, as documented in
// org.xen.Stubdom.Manager.xml. Pure (no bus needed), so it is unit-tested directly.
#pragma once

#include "core/PvGrub.hpp"
#include "dbus/server/Options.hpp"

#include <sdbus-c++/Types.h>

#include <map>
#include <string>

namespace stubdomd::dbus {

using Dict = std::map<std::string, sdbus::Variant>;

// arch s, guest_kernel s, menu s, loader s, image s
const std::vector<OptionSpec>& pvGrubConfigOptions();

// Throws Error(InvalidArgs) for unknown or mistyped keys, bad arch or loader values and
// relative paths.
pvgrub::ConfigRequest pvGrubConfigRequest(const Options& options);
Dict toDict(const pvgrub::ConfigResult& result);
// Throws Error(InvalidArgs) for an empty or relative path.
void checkPvGrubPath(const std::string& path);
Dict toDict(const pvgrub::CheckReport& report);

} // namespace stubdomd::dbus
