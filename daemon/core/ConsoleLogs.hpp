// Where a stub domain's console 0 goes: its device model's log. libxl gives a stub's
// console 0 the output "file:<log dir>/qemu-dm-<guest>.log"; a stub domain made with
// `xl create` gets xenconsoled's pty instead (published at /local/domain/<stub>/console/tty),
// so the daemon copies that pty into the same file. The adapter is host/ConsoleLogger.
#pragma once

#include "Types.hpp"

#include <string>

namespace stubdomd {

class ConsoleLogs {
public:
    virtual ~ConsoleLogs() = default;
    // Appends what arrives on `tty` (a pty xenconsoled made for `stub`) to `logPath`
    // until the pty closes or stop(stub). Failures are logged, never thrown: a missing
    // log must not fail a stub domain.
    virtual void follow(DomId stub, const std::string& tty, const std::string& logPath) = 0;
    // Stops following `stub`'s console; a no-op when it is not followed.
    virtual void stop(DomId stub) = 0;
};

} // namespace stubdomd
