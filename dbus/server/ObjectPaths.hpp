// Object paths of guests and helpers (DESIGN.md section 5).
#pragma once

#include <optional>
#include <string>

namespace stubdomd::dbus {

// /org/xen/Stubdom/guest/<uuid, sd_bus_path_encode'd> — any uuid string gives a
// valid path; clients decode it with sd_bus_path_decode.
std::string guestPath(const std::string& uuid);
// guestPath's inverse: the uuid of a path one element below the guest prefix, nothing
// for any other path (the prefix itself, deeper, elsewhere).
std::optional<std::string> guestUuidOf(const char* path);

// /org/xen/Stubdom/helper/<name>, '-' written as '_' (fs-backend → fs_backend);
// any other character outside [A-Za-z0-9_] as _xx (hex), the way sd-bus escapes.
std::string helperPath(const std::string& name);

} // namespace stubdomd::dbus
