// The host going to sleep, as systemd announces it (DESIGN.md: logind's delay inhibitor
// and PrepareForSleep): stubdomd holds a delay inhibitor while it is awake; before the
// sleep it pauses every running managed guest with its stub domain and then lets the
// sleep go on (releases the inhibitor); after it, it resumes exactly those, stubs first,
// and holds the inhibitor again. The logind side lives at the edge (dbus/server); this
// is the protocol, testable without a bus.
#pragma once

#include <cstddef>

namespace stubdomd {

// The delay inhibitor (logind's Inhibit("sleep", ..., "delay") at the edge). hold() says
// stubdomd wants it: the edge takes it now if logind is there, and again whenever logind
// comes back. release() lets go of it (the sleep may go on) until the next hold().
class SleepInhibitor {
public:
    virtual ~SleepInhibitor() = default;
    virtual void hold() = 0;
    virtual void release() = 0;
};

// What a sleep does to the guests (GuestManager).
class SleepTarget {
public:
    virtual ~SleepTarget() = default;
    // Pauses every running managed guest and its stub domain; returns how many.
    virtual std::size_t pauseForSleep() = 0;
    // Resumes exactly the guests pauseForSleep paused that are still paused by it, each
    // stub before its guest; returns how many.
    virtual std::size_t resumeAfterSleep() = 0;
};

class HostSleep {
public:
    // Both must outlive this.
    HostSleep(SleepTarget& guests, SleepInhibitor& inhibitor)
        : guests_(guests), inhibitor_(inhibitor) {}

    // At start: take the inhibitor.
    void start();
    // PrepareForSleep(sleeping). A `true` while already preparing, or a `false` without
    // a `true` before it (stubdomd started during a sleep, a repeated signal), does nothing.
    void prepareForSleep(bool sleeping);
    // logind came (back) onto the bus. A logind that starts is in no sleep: if it left
    // between PrepareForSleep(true) and (false), the false will never come, and the host
    // that runs this is awake, so the guests paused for the sleep are resumed now.
    void sleepManagerStarted();
    bool sleeping() const { return sleeping_; }

private:
    SleepTarget& guests_;
    SleepInhibitor& inhibitor_;
    bool sleeping_ = false;
};

} // namespace stubdomd
