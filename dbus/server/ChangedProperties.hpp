// Which D-Bus property names a change touched, from the core's field mask, so that one
// PropertiesChanged carries exactly those (guests and helpers alike).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace stubdomd::dbus {

template <typename Field, std::size_t N>
std::vector<std::string>
changedProperties(const std::array<std::pair<Field, const char*>, N>& names, std::uint32_t fields) {
    std::vector<std::string> changed;
    for (const auto& [field, name] : names)
        if (fields & field)
            changed.emplace_back(name);
    return changed;
}

} // namespace stubdomd::dbus
