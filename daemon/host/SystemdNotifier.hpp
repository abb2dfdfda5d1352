// sd_notify for Type=notify: READY once the bus name is owned and the registry is
// rebuilt, STATUS lines with the counts, and the watchdog fed from the event loop (so
// a stuck loop is what the watchdog catches). Without NOTIFY_SOCKET it does nothing.
#pragma once

#include "loop/EventLoop.hpp"

#include <string>

namespace stubdomd {

class SystemdNotifier {
public:
    explicit SystemdNotifier(EventLoop& loop) : loop_(loop) {}
    void ready(const std::string& status);
    void status(const std::string& status);
    void stopping();
    // Pings at half the interval systemd asked for (WATCHDOG_USEC), if it asked.
    void startWatchdog();

private:
    void ping();
    EventLoop& loop_;
    std::chrono::milliseconds watchdogInterval_{0};
};

} // namespace stubdomd
