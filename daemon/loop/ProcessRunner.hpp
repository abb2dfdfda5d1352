// Runs commands as children of the loop: no shell, stdin from /dev/null, stdout and
// stderr captured, exit seen through a pidfd. Nothing blocks; a command that
// outlives its timeout is killed (SIGKILL) and reported as 128+9.
#pragma once

#include "core/Toolstack.hpp"
#include "loop/EventLoop.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace stubdomd {

class ProcessRunner {
public:
    explicit ProcessRunner(EventLoop& loop);
    ~ProcessRunner(); // kills and reaps what still runs
    ProcessRunner(const ProcessRunner&) = delete;
    ProcessRunner& operator=(const ProcessRunner&) = delete;

    void run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
             Toolstack::Done done);
    unsigned running() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace stubdomd
