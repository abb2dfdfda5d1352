// Helpers shared by the loop's tests: a watchdog so that a broken loop fails a test
// instead of hanging it, and log capture.
#pragma once

#include "core/Log.hpp"
#include "loop/EventLoop.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace stubdomd::test {

// Runs the loop until something calls stop(), or fails after `limit`.
inline bool runWithin(EventLoop& loop, std::chrono::milliseconds limit) {
    bool expired = false;
    auto watchdog = loop.after(limit, [&] {
        expired = true;
        loop.stop();
    });
    loop.run();
    loop.cancel(watchdog);
    return !expired;
}

// Collects log lines for the duration of a test, then restores the previous sink.
class LogCapture {
public:
    LogCapture()
        : previous_(setLogSink([this](LogLevel, const LogFields&, const std::string& message) {
              lines.push_back(message);
          })) {}
    ~LogCapture() { setLogSink(previous_); }
    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;

    std::vector<std::string> lines;

private:
    LogSink previous_;
};

} // namespace stubdomd::test
