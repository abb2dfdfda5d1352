#include "core/MemorySize.hpp"

#include <cctype>
#include <string>

namespace stubdomd {

std::optional<std::uint64_t> parseMemoryMiB(std::string_view text) {
    constexpr std::uint64_t kMaxMiB = 1024 * 1024;
    std::size_t i = 0;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
        ++i;
    std::uint64_t number = 0;
    const std::size_t digits = i;
    for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
        number = number * 10 + static_cast<std::uint64_t>(text[i] - '0');
        if (number > kMaxMiB * 1024 * 1024)
            return std::nullopt;
    }
    if (i == digits)
        return std::nullopt;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
        ++i;
    std::string unit;
    for (; i < text.size(); ++i)
        unit += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    while (!unit.empty() && std::isspace(static_cast<unsigned char>(unit.back())))
        unit.pop_back();
    std::uint64_t mib = 0;
    if (unit.empty() || unit == "m" || unit == "mb" || unit == "mib") {
        mib = number;
    } else if (unit == "g" || unit == "gb" || unit == "gib") {
        mib = number * 1024;
    } else if (unit == "k" || unit == "kb" || unit == "kib") {
        if (number % 1024 != 0)
            return std::nullopt;
        mib = number / 1024;
    } else {
        return std::nullopt;
    }
    if (mib == 0 || mib > kMaxMiB)
        return std::nullopt;
    return mib;
}

std::uint64_t minimumStubMemoryMiB(Flavour flavour) {
    return flavour == Flavour::Linux ? 128 : 16;
}

} // namespace stubdomd
