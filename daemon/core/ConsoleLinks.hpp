// OpenConsole's PTYs: stubdomd makes a pseudo-terminal per client and bridges it to a stub
// domain's console — what the console prints (a ConsoleLogs follower of the guest's log,
// so the log keeps every byte and there is one reader of xenconsoled's pty) goes to the
// PTY, and, for a writable console, what the client types goes to xenconsoled's pty, on to
// the stub's console ring. No dom0 QEMU serves it. The adapter is host/ConsoleBridge.
#pragma once

#include <string>

namespace stubdomd {

// OpenConsole's names: the guest's first serial port (read-write) and the stub domain's own
// console (read-only).
inline constexpr const char* kConsoleSerial0 = "serial0";
inline constexpr const char* kConsoleStub = "stub";
// Whether `name` is one of them (read-write for kConsoleSerial0); throws
// Error(InvalidArgs) naming it otherwise. GuestConsoleLinks.cpp.
bool consoleWritable(const std::string& name);

class ConsoleLinks {
public:
    virtual ~ConsoleLinks() = default;
    struct Opened {
        int fd = -1;      // the PTY's master, the caller's
        std::string path; // the slave's path (stubdomd holds the slave)
    };
    // Bridges `output` (taken over, closed on failure too) to a new PTY, and the PTY's input
    // to the pty `consoleTty` when `writable` (else typed bytes are read and dropped). The
    // bridge ends — its descriptors closed — when the client closes the master, `output`
    // ends, or `consoleTty` hangs up (the stub's console is gone). Throws Error: Busy
    // (kMaxLinks for `key` already, or out of descriptors), InvalidState (the tty cannot be
    // opened).
    virtual Opened open(const std::string& key, int output, const std::string& consoleTty,
                        bool writable) = 0;
    virtual unsigned links(const std::string& key) const = 0;
};

} // namespace stubdomd
