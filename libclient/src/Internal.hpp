// What the client's source files share: turning sdbus errors into typed ones, and
// D-Bus property dictionaries into the plain structs.
#pragma once

#include "stubdom-client/Types.hpp"

#include <sdbus-c++/Error.h>
#include <sdbus-c++/Types.h>

#include <map>
#include <optional>
#include <string>

namespace stubdom::detail {

using Properties = std::map<std::string, sdbus::Variant>;
using InterfacesAndProperties = std::map<std::string, Properties>;

// a{sv} arguments: only the options the caller set are sent.
template <typename T>
void putIfSet(Properties& dict, const char* key, const std::optional<T>& value) {
    if (value)
        dict.insert_or_assign(key, sdbus::Variant(*value));
}

// a{sv} replies: a key missing or of another type than the contract's leaves the field
// at its default, as for properties, so a newer or broken daemon cannot fail a read.
template <typename T> void take(const Properties& dict, const char* key, T& into) {
    auto it = dict.find(key);
    if (it != dict.end() && it->second.containsValueOfType<T>())
        into = it->second.get<T>();
}

// Rethrows an sdbus::Error as the typed stubdom error its name maps to.
[[noreturn]] void throwFromDbus(const sdbus::Error& error);

// Properties of a type other than the contract's are skipped (a newer or broken daemon
// must not make every read fail); unknown property names are ignored.
void applyGuestProperty(GuestInfo& guest, const std::string& name, const sdbus::Variant& value);
GuestInfo guestFromProperties(const std::string& path, const Properties& properties);
HelperInfo helperFromProperties(const std::string& path, const Properties& properties);

} // namespace stubdom::detail
