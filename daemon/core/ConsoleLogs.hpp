// Where a stub domain's console 0 goes: its device model's log. libxl gives a stub's
// console 0 the output "file:<log dir>/qemu-dm-<guest>.log"; a stub domain made with
// `xl create` gets xenconsoled's pty instead (published at /local/domain/<stub>/console/tty),
// so the daemon copies that pty into the same file. The adapter is host/ConsoleLogger.
#pragma once

#include "Types.hpp"

#include <cstdint>
#include <string>

namespace stubdomd {

// What one guest's log may take on disk, its rotated `.1` included (stubdomd.json's
// stub_log_max_bytes): a few MiB keep hours of a stub's boot and QEMU messages; below the
// minimum, half of it would not hold the lines a failure quotes.
inline constexpr std::uint64_t kConsoleLogDefaultMaxBytes = 4 * 1024 * 1024;
inline constexpr std::uint64_t kConsoleLogMinMaxBytes = 16 * 1024;

class ConsoleLogs {
public:
    virtual ~ConsoleLogs() = default;
    // Appends what arrives on `tty` (a pty xenconsoled made for `stub`) to `logPath`
    // until the pty closes or stop(stub). Failures are logged, never thrown: a missing
    // log must not fail a stub domain.
    virtual void follow(DomId stub, const std::string& tty, const std::string& logPath) = 0;
    // Stops following `stub`'s console; a no-op when it is not followed.
    virtual void stop(DomId stub) = 0;
    // A read-only descriptor (the caller owns it) on which what is appended to `logPath`
    // from now on arrives, across the guest's stubs, as long as its reader keeps up; a
    // reader that falls behind is cut off (it reads EOF) rather than ever blocking the
    // daemon. -1 when none can be made (errno says why).
    virtual int openFollower(const std::string& /*logPath*/) { return -1; }
};

} // namespace stubdomd
