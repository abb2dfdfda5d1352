#include "core/Excerpt.hpp"

namespace stubdomd {

std::string excerpt(std::string_view text, std::size_t max) {
    if (text.size() <= max)
        return std::string(text);
    std::size_t cut = max;
    // Back off continuation bytes (10xxxxxx) so no character is split.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
        --cut;
    return std::string(text.substr(0, cut)) + "... (" + std::to_string(text.size()) +
           " bytes in all)";
}

} // namespace stubdomd
