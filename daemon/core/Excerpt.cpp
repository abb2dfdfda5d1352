#include "core/Excerpt.hpp"

#include <algorithm>
#include <cstdint>

namespace stubdomd {

namespace {

// The length of the well-formed UTF-8 sequence at text[i] (RFC 3629: no overlong form,
// no surrogate, nothing above U+10FFFF), or 0.
std::size_t sequenceAt(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) {
        return static_cast<unsigned char>(text[k]);
    };
    const unsigned char c = byte(i);
    const std::size_t length = c < 0x80           ? 1
                               : (c >> 5) == 0x6  ? 2
                               : (c >> 4) == 0xE  ? 3
                               : (c >> 3) == 0x1E ? 4
                                                  : 0;
    if (length == 0 || i + length > text.size())
        return 0;
    std::uint32_t code = length == 1 ? c : c & (0x7F >> length);
    for (std::size_t k = 1; k < length; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80)
            return 0;
        code = (code << 6) | (byte(i + k) & 0x3F);
    }
    static constexpr std::uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinimum[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
        return 0;
    return length;
}

} // namespace

bool validUtf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t length = sequenceAt(text, i);
        if (length == 0)
            return false;
        i += length;
    }
    return true;
}

std::string excerpt(std::string_view text, std::size_t max) {
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t length = sequenceAt(text, i);
        if (out.size() + std::max<std::size_t>(length, 1) > max)
            break;
        if (length == 0) {
            out += '?'; // a byte that is no UTF-8 (D-Bus would refuse the whole string)
            ++i;
        } else {
            out.append(text.substr(i, length));
            i += length;
        }
    }
    if (i < text.size())
        out += "... (" + std::to_string(text.size()) + " bytes in all)";
    return out;
}

} // namespace stubdomd
