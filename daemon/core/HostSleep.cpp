#include "core/HostSleep.hpp"

#include "core/Log.hpp"

#include <string>

namespace stubdomd {

void HostSleep::start() {
    inhibitor_.hold();
}

void HostSleep::prepareForSleep(bool sleeping) {
    if (sleeping == sleeping_) {
        logInfo({}, sleeping ? "host sleep announced again; the guests are already paused"
                             : "host woke without a sleep announced to stubdomd; nothing to "
                               "resume");
        return;
    }
    sleeping_ = sleeping;
    if (sleeping) {
        std::size_t n = guests_.pauseForSleep();
        logInfo({}, "host going to sleep: paused " + std::to_string(n) +
                        " guests with their stub domains");
        // Only now: the delay inhibitor is what keeps the host awake until they are paused.
        inhibitor_.release();
        return;
    }
    std::size_t n = guests_.resumeAfterSleep();
    logInfo({}, "host woke: resumed " + std::to_string(n) + " guests with their stub domains");
    inhibitor_.hold();
}

void HostSleep::sleepManagerStarted() {
    if (!sleeping_)
        return;
    logWarning({}, "logind started again during a host sleep: the sleep is over, resuming the "
                   "guests paused for it");
    prepareForSleep(false);
}

} // namespace stubdomd
