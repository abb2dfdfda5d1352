#include "host/SystemdNotifier.hpp"

#include <systemd/sd-daemon.h>

namespace stubdomd {

void SystemdNotifier::ready(const std::string& status) {
    sd_notify(0, ("READY=1\nSTATUS=" + status).c_str());
}

void SystemdNotifier::status(const std::string& status) {
    sd_notify(0, ("STATUS=" + status).c_str());
}

void SystemdNotifier::stopping() {
    sd_notify(0, "STOPPING=1");
}

void SystemdNotifier::startWatchdog() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return;
    watchdogInterval_ = std::chrono::milliseconds(std::max<std::uint64_t>(usec / 2000, 1));
    ping();
}

void SystemdNotifier::ping() {
    sd_notify(0, "WATCHDOG=1");
    loop_.after(watchdogInterval_, [this] { ping(); });
}

} // namespace stubdomd
