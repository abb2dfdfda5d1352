// Reads the display keys of a guest's own xl config, <xen config dir>/<guest name> (the
// README's "hvmconfig"; "<name>.cfg" is tried too), with libxlutil like XlConfigReader:
// vnc, sdl, vnclisten, vncdisplay, vncunused, vncpasswd, keymap, videoram. Every other
// key is the toolstack's business and is left alone, without a warning.
//   /etc/xen/hvmconfig:7: 'vncdisplay' must be a number, got "one"
#pragma once

#include "core/DisplaySettings.hpp"

#include <optional>
#include <string>

namespace stubdomd {

class GuestConfigReader {
public:
    explicit GuestConfigReader(std::string xenConfigDir);

    // nullopt when the guest has no config file in the directory; throws
    // Error(InvalidConfig) when it cannot be read or parsed.
    std::optional<GuestDisplayConfig> load(const std::string& guestName) const;

    // Parses `text` as if it were the file `source`.
    static GuestDisplayConfig parse(const std::string& text, const std::string& source);

private:
    std::string dir_;
};

} // namespace stubdomd
