// One-shot timers on the event loop (timeouts, backoff), and the clock they use.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace stubdomd {

using Clock = std::chrono::steady_clock;

class Timers {
public:
    using TimerId = std::uint64_t;
    virtual ~Timers() = default;

    virtual Clock::time_point now() const = 0;
    // Calls `fire` once, from the loop, after `delay`. Ids are never 0.
    virtual TimerId after(std::chrono::milliseconds delay, std::function<void()> fire) = 0;
    // Cancelling a timer that has fired or been cancelled is a no-op.
    virtual void cancel(TimerId id) = 0;
};

} // namespace stubdomd
