#include "xen/GuestConfigReader.hpp"

#include "host/TextFile.hpp"
#include "xen/XlConfigReader.hpp"
#include "xen/XluConfig.hpp"

namespace stubdomd {

namespace {

constexpr const char* kKeys[] = {"vnc",       "sdl",       "vnclisten", "vncdisplay",
                                 "vncunused", "vncpasswd", "keymap",    "videoram"};

std::optional<unsigned> number(const XluConfig& config, const char* key) {
    const auto text = config.string(key);
    if (!text)
        return std::nullopt;
    long value = 0;
    if (xlu_cfg_get_long(config.get(), key, &value, 1) || value < 0 || value > 65535)
        config.fail(key, "'" + std::string(key) + "' must be a number, got \"" + *text + "\"");
    return static_cast<unsigned>(value);
}

std::optional<bool> flag(const XluConfig& config, const char* key) {
    const auto value = number(config, key);
    if (!value)
        return std::nullopt;
    return *value != 0;
}

} // namespace

GuestConfigReader::GuestConfigReader(std::string xenConfigDir) : dir_(std::move(xenConfigDir)) {}

std::optional<GuestDisplayConfig> GuestConfigReader::load(const std::string& guestName) const {
    if (!isValidGuestName(guestName))
        return std::nullopt; // XlConfigReader has already refused such a name
    std::string base = dir_;
    if (base.empty() || base.back() != '/')
        base += '/';
    for (const std::string& path : {base + guestName, base + guestName + ".cfg"})
        if (auto text = readTextFile(path))
            return parse(*text, path);
    return std::nullopt;
}

GuestDisplayConfig GuestConfigReader::parse(const std::string& text, const std::string& source) {
    const XluConfig config(text, source);
    GuestDisplayConfig out;
    out.source = source;
    for (const char* key : kKeys)
        if (const auto found = config.keys().find(key); found != config.keys().end())
            out.lines[key] = found->second;
    out.vnc = flag(config, "vnc");
    out.sdl = flag(config, "sdl");
    out.vncunused = flag(config, "vncunused");
    out.vnclisten = config.string("vnclisten");
    out.vncpasswd = config.string("vncpasswd");
    out.keymap = config.string("keymap");
    out.vncdisplay = number(config, "vncdisplay");
    out.videoramMiB = number(config, "videoram");
    return out;
}

} // namespace stubdomd
