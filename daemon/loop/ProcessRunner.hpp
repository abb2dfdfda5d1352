// Runs commands as children of the loop: no shell, stdin from /dev/null, stdout and
// stderr captured, exit seen through a pidfd. Nothing blocks; a command that
// outlives its timeout is killed (SIGKILL) and reported as 128+9.
#pragma once

#include "core/Toolstack.hpp"
#include "loop/EventLoop.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace stubdomd {

class ProcessRunner {
public:
    // What is kept of each of stdout and stderr; the rest is read and dropped so that
    // a chatty child never blocks on a full pipe.
    static constexpr std::size_t outputCap = 64 * 1024;

    // `loop` must outlive the runner.
    explicit ProcessRunner(EventLoop& loop);
    ~ProcessRunner(); // kills and reaps what still runs; their `done` is not called
    ProcessRunner(const ProcessRunner&) = delete;
    ProcessRunner& operator=(const ProcessRunner&) = delete;

    // argv[0] is the program (searched in PATH when it has no '/'). The child gets the
    // daemon's environment, an empty signal mask, default signal dispositions and no
    // fd but 0, 1 and 2. `done` is called exactly once, from the loop (never from
    // inside run()), once the child is reaped and its pipes are read. A program that
    // cannot be started is reported through `done` as exit status 127 with
    // "cannot run <program>: <reason>" in `errors`; a timeout of zero means none.
    void run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
             Toolstack::Done done);
    // Children started and not yet reported.
    unsigned running() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace stubdomd
