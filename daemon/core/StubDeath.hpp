// Why a stub domain died, in words a dom0 administrator (and a VM manager) can act on:
// the hypervisor's shutdown reason, and what the stub's console said last, where a Linux
// stub's kernel names the OOM killer's victim and QEMU or the stub's init say why QEMU
// stopped. The most common death of a stub domain is its QEMU killed for lack of memory
// (qubes-issues #3821); only its console tells, and people hunt for it (#4980, #9540).
#pragma once

#include <optional>
#include <string>

namespace stubdomd {

// The cause, as the StubFailed signal names it (a machine-readable word).
enum class StubDeathCause {
    OutOfMemory, // "oom": its kernel's OOM killer killed QEMU
    QemuExited,  // "qemu-exited": QEMU (or the stub's init on its behalf) said it stopped
    Crashed,     // "crashed": the domain crashed, nothing on its console says why
    ShutDown,    // "shutdown": it shut down (poweroff, reboot, ...)
    Vanished,    // "destroyed": it was destroyed by someone else; no reason is known
};

const char* toString(StubDeathCause cause);

struct StubDeath {
    StubDeathCause cause = StubDeathCause::Vanished;
    // "crashed (Xen shutdown reason crash); its kernel's OOM killer killed QEMU: Out of
    // memory: Killed process 231 (qemu-system-i38)", without the console's tail.
    std::string summary;
};

// `shutdownReason`: SHUTDOWN_* of xen/include/public/sched.h when the domain was seen shut
// down, nullopt when it was gone at once. `consoleTail`: its last console lines
// (consoleTail(), joined with " | ").
StubDeath explainStubDeath(std::optional<unsigned> shutdownReason, const std::string& consoleTail);

} // namespace stubdomd
