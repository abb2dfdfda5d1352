#include "loop/RestartPolicy.hpp"

#include <algorithm>

namespace stubdomd {

RestartPolicy::RestartPolicy(const HelperSettings& settings)
    : burst_(settings.startLimitBurst),
      interval_(std::chrono::duration_cast<std::chrono::milliseconds>(settings.startLimitInterval)),
      initialDelay_(settings.restartDelay),
      maxDelay_(std::max(settings.restartDelayMax, settings.restartDelay)), delay_(initialDelay_) {}

void RestartPolicy::started(Clock::time_point at) {
    starts_.push_back(at);
}

void RestartPolicy::exited(Clock::time_point at) {
    if (!starts_.empty() && at - starts_.back() >= interval_)
        delay_ = initialDelay_;
}

bool RestartPolicy::limitReached(Clock::time_point now) const {
    const auto inWindow = std::count_if(starts_.begin(), starts_.end(),
                                        [&](Clock::time_point t) { return now - t < interval_; });
    return static_cast<unsigned>(inWindow) >= burst_;
}

std::chrono::milliseconds RestartPolicy::nextDelay() {
    const auto delay = delay_;
    delay_ = std::min(delay_ * 2, maxDelay_);
    // Only the starts still inside some future window matter; drop the rest so a
    // helper that restarts now and then over months keeps a short list.
    while (starts_.size() > burst_)
        starts_.pop_front();
    return delay;
}

void RestartPolicy::reset() {
    starts_.clear();
    delay_ = initialDelay_;
}

} // namespace stubdomd
