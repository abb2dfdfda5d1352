// Helpers shared by the loop's tests: a watchdog so that a broken loop fails a test
// instead of hanging it, log capture, and a non-blocking pipe.
#pragma once

#include "core/Log.hpp"
#include "loop/EventLoop.hpp"
#include "loop/UniqueFd.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

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

// A pipe, both ends non-blocking and closed on exec.
struct Pipe {
    UniqueFd read, write;
    Pipe() {
        int fds[2];
        REQUIRE(pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
        read.reset(fds[0]);
        write.reset(fds[1]);
    }
    void put(const std::string& data) const {
        REQUIRE(::write(write.get(), data.data(), data.size()) ==
                static_cast<ssize_t>(data.size()));
    }
    std::string take() const {
        char buffer[256];
        ssize_t n = ::read(read.get(), buffer, sizeof buffer);
        return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
    }
};

} // namespace stubdomd::test
