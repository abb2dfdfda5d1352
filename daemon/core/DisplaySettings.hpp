// What the display rules (Display.hpp) take in: the guest's own display settings, the
// choice SetDisplay stored, the daemon's X display; and where the engine gets them.
// Plain data, light enough for GuestService.hpp.
#pragma once

#include "core/Types.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace stubdomd {

// The display keys of the guest's own config (<xen config dir>/<name>, the README's
// "hvmconfig"), or the same settings as the toolstack passed them to stubdom-dm. Unset
// means the source does not say; libxl's defaults (vnc = 1 on 127.0.0.1) are not assumed,
// because a guest whose device model is a stub domain never gets a dom0 VNC server.
struct GuestDisplayConfig {
    std::string source;               // "/etc/xen/hvmconfig", "stubdom-dm's arguments"
    std::map<std::string, int> lines; // key → line of its assignment, when known
    std::optional<bool> vnc;
    std::optional<bool> sdl;
    std::optional<std::string> vnclisten; // "IP" or "IP:DISPLAY"
    std::optional<unsigned> vncdisplay;
    std::optional<bool> vncunused;
    std::optional<std::string> vncpasswd;
    std::optional<std::string> keymap;
    std::optional<unsigned> videoramMiB;

    // "source:line" for a key, or just "source" when its line is not known.
    std::string where(const std::string& key) const;
};

// What SetDisplay stores for the next start of a guest's stub domain.
struct DisplayChoice {
    DisplayMode mode = DisplayMode::None;
    std::optional<std::string> address; // listen address (an IP literal)
    std::optional<std::int32_t> port;   // 5900..65535, or -1: the next free one (vnc-dom0)
    std::optional<std::string> keymap;  // e.g. "de", "en-us"
};

// Where an SDL window can be shown, from the daemon's environment.
struct DisplayEnvironment {
    std::optional<std::string> display;    // $DISPLAY
    std::optional<std::string> xauthority; // $XAUTHORITY
};

// What stubdomd keeps per guest across stub-domain starts and daemon restarts
// (<state_dir>/display/<uuid>.json, mode 0600).
struct StoredDisplay {
    std::optional<DisplayChoice> choice;
    std::optional<std::string> password; // SetDisplayPassword's; never logged or shown
};

// The engine's view of the host for display set-ups; host/DisplayHost implements it.
class DisplaySources {
public:
    virtual ~DisplaySources() = default;
    // The guest's own xl config, nullopt when there is none. Throws Error(InvalidConfig)
    // with "file:line: ..." when it cannot be read or parsed.
    virtual std::optional<GuestDisplayConfig> guestConfig(const std::string& guestName) = 0;
    // Empty when nothing was stored. Throws Error(Internal) when the file is unreadable.
    virtual StoredDisplay stored(const std::string& uuid) = 0;
    // Throws Error(Internal) when it cannot be written; nothing changes then.
    virtual void store(const std::string& uuid, const StoredDisplay& display) = 0;
    virtual DisplayEnvironment environment() = 0;
};

} // namespace stubdomd
