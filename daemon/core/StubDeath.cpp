#include "core/StubDeath.hpp"

#include "core/Excerpt.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

namespace stubdomd {

namespace {

// xen/include/public/sched.h, SHUTDOWN_poweroff (0) .. SHUTDOWN_soft_reset (5).
std::string reasonName(unsigned reason) {
    static const char* const names[] = {"poweroff", "reboot",   "suspend",
                                        "crash",    "watchdog", "soft_reset"};
    return reason < std::size(names) ? names[reason] : "unknown (" + std::to_string(reason) + ")";
}

std::string lowered(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

// Linux's oom_kill_process: "Out of memory: Killed process 231 (qemu-system-i38) ...",
// older kernels "Out of memory: Kill process 231 (qemu...) score ..."; the comm is cut to
// 15 characters. The last match counts: it is the one that ended the stub.
std::optional<std::string> oomKill(const std::string& tail) {
    static const std::regex kill(R"(Out of memory: Kill(?:ed)? process (\d+) \(([^)]*)\))");
    std::optional<std::string> found;
    for (auto it = std::sregex_iterator(tail.begin(), tail.end(), kill);
         it != std::sregex_iterator(); ++it)
        found = it->str(0);
    return found;
}

// The lines in which QEMU, or the stub's init for it, says it stopped: QEMU's own
// "qemu-system-i386: <why>" errors, and "QEMU exited ..." / "qemu exited" of an init.
std::optional<std::string> qemuExit(const std::string& tail) {
    std::optional<std::string> found;
    std::size_t start = 0;
    while (start <= tail.size()) {
        std::size_t end = tail.find(" | ", start);
        if (end == std::string::npos)
            end = tail.size();
        const std::string line = tail.substr(start, end - start);
        const std::string low = lowered(line);
        if (low.find("qemu exited") != std::string::npos ||
            low.find("qemu-system-") != std::string::npos ||
            low.find("qemu-dm exited") != std::string::npos)
            found = line;
        start = end + 3;
    }
    return found;
}

} // namespace

const char* toString(StubDeathCause cause) {
    switch (cause) {
    case StubDeathCause::OutOfMemory:
        return "oom";
    case StubDeathCause::QemuExited:
        return "qemu-exited";
    case StubDeathCause::Crashed:
        return "crashed";
    case StubDeathCause::ShutDown:
        return "shutdown";
    case StubDeathCause::Vanished:
        return "destroyed";
    }
    return "destroyed";
}

StubDeath explainStubDeath(std::optional<unsigned> shutdownReason, const std::string& consoleTail) {
    constexpr unsigned kShutdownCrash = 3;
    StubDeath death;
    if (shutdownReason) {
        death.cause =
            *shutdownReason == kShutdownCrash ? StubDeathCause::Crashed : StubDeathCause::ShutDown;
        death.summary = std::string(*shutdownReason == kShutdownCrash ? "crashed" : "shut down") +
                        " (Xen shutdown reason " + reasonName(*shutdownReason) + ")";
    } else {
        death.summary = "was destroyed (no shutdown reason: it was gone at once)";
    }
    if (auto oom = oomKill(consoleTail)) {
        death.cause = StubDeathCause::OutOfMemory;
        const bool qemu = lowered(*oom).find("(qemu") != std::string::npos;
        death.summary += std::string("; its kernel's OOM killer killed ") +
                         (qemu ? "QEMU" : "a process") + ": " + excerpt(*oom) +
                         (qemu ? " (give the stub more memory: stubdomain_memory)" : "");
    } else if (auto exit = qemuExit(consoleTail)) {
        death.cause = StubDeathCause::QemuExited;
        death.summary += "; its device model stopped: " + excerpt(*exit);
    }
    return death;
}

} // namespace stubdomd
