// The command line that xend and libxl give a qemu-traditional device model, which is
// what the toolstack runs stubdom-dm with: `-d DOMID -domain-name NAME -videoram N
// -vnc ADDR:DISPLAY[,password] -vncunused -k KEYMAP -serial pty -M xenfv …`.
// -d and -domain-name name the guest; the display options go to Attach as its options;
// everything else is skipped without failing, as a qemu that ignores it would.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace stubdom::dm {

struct DisplayArgs {
    std::optional<std::string> vnc; // ADDR:DISPLAY, without ",password"
    bool vncPassword = false;       // ",password": the password is in xenstore
    bool vncUnused = false;
    bool sdl = false;
    bool noGraphic = false;
    std::optional<std::string> keymap;
    std::optional<std::uint32_t> videoramMiB;
};

struct DmArgs {
    std::uint32_t domid = 0;
    std::string domainName; // empty when not given
    DisplayArgs display;
    bool help = false;
    std::vector<std::string> ignored; // skipped options with their values, for the log
};

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// args without argv[0]. Throws UsageError for a missing or bad -d (unless help).
DmArgs parseDmArgs(const std::vector<std::string>& args);

std::string usage();

} // namespace stubdom::dm
