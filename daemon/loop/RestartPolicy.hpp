// When a helper that died is started again: exponential backoff (1 s doubling to
// 60 s by default) and a start limit (5 starts within 60 s by default), after which
// the helper is `failed` until an administrator starts it. Pure bookkeeping over a
// clock the caller passes in, so the unit tests can replay exact sequences.
#pragma once

#include "config/Settings.hpp"
#include "core/Timers.hpp"

#include <chrono>
#include <deque>

namespace stubdomd {

class RestartPolicy {
public:
    explicit RestartPolicy(const HelperSettings& settings);

    // A process was started at `at`.
    void started(Clock::time_point at);
    // The process started last ended at `at`. A process that ran at least a whole
    // start-limit interval was healthy: its death starts the backoff afresh.
    void exited(Clock::time_point at);
    // Whether one more start now would exceed the limit (`burst` starts within the
    // interval, counting this one).
    bool limitReached(Clock::time_point now) const;
    // How long to wait before the next automatic start; each call doubles the next.
    std::chrono::milliseconds nextDelay();
    // An administrator's Start/Restart: the history and the backoff are forgotten.
    void reset();

private:
    unsigned burst_;
    std::chrono::milliseconds interval_;
    std::chrono::milliseconds initialDelay_;
    std::chrono::milliseconds maxDelay_;
    std::chrono::milliseconds delay_;
    std::deque<Clock::time_point> starts_; // within the last interval, oldest first
};

} // namespace stubdomd
