// What the client's source files share: turning sdbus errors into typed ones, and
// D-Bus property dictionaries into the plain structs.
#pragma once

#include "stubdom-client/Types.hpp"

#include <sdbus-c++/Error.h>
#include <sdbus-c++/Types.h>

#include <map>
#include <string>

namespace stubdom::detail {

using Properties = std::map<std::string, sdbus::Variant>;
using InterfacesAndProperties = std::map<std::string, Properties>;

// Rethrows an sdbus::Error as the typed stubdom error its name maps to.
[[noreturn]] void throwFromDbus(const sdbus::Error& error);

// Properties of a type other than the contract's are skipped (a newer or broken daemon
// must not make every read fail); unknown property names are ignored.
void applyGuestProperty(GuestInfo& guest, const std::string& name, const sdbus::Variant& value);
GuestInfo guestFromProperties(const std::string& path, const Properties& properties);
HelperInfo helperFromProperties(const std::string& path, const Properties& properties);

} // namespace stubdom::detail
