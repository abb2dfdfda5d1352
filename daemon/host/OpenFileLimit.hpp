// The daemon's own open-file limit. Each stub domain it follows holds two descriptors
// (its console's pty and the console log), and each xl it runs a few more (its output
// pipes, a pidfd): under systemd's default LimitNOFILE=1024:524288, a soft limit of 1024
// would stop the daemon at about 500 stub domains: xl could no longer be started, nor a
// new stub's console followed into its log. The soft limit may be raised to the hard
// one by the process itself; systemd leaves that to programs that, like this one, never
// use select() (whose fd_set ends at 1024). The children it starts inherit the raised
// limit, as they would under a unit's LimitNOFILE=.
#pragma once

#include <cstdint>

namespace stubdomd {

struct OpenFileLimit {
    std::uint64_t before = 0; // the soft limit the daemon was started with
    std::uint64_t soft = 0;   // the soft limit now
    std::uint64_t hard = 0;
    int error = 0; // errno of a failed raise (the soft limit is then `before`)
};

// Raises the soft RLIMIT_NOFILE to the hard one.
OpenFileLimit raiseOpenFileLimit();

// Descriptors the daemon needs for this many followed stub domains, with room for the
// bus, xenstore, the loop's own and a batch of xl commands.
constexpr std::uint64_t descriptorsFor(std::uint64_t stubDomains) {
    return 2 * stubDomains + 64;
}

} // namespace stubdomd
