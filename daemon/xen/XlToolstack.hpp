// The Toolstack interface over the `xl` command line (or the sim's fake xl): each
// call is one child process, and a FIFO queue keeps at most `maxParallel` of them
// running, so a boot storm of guests does not fork hundreds of xl at once.
#pragma once

#include "config/Settings.hpp"
#include "core/Toolstack.hpp"
#include "loop/EventLoop.hpp"
#include "loop/ProcessRunner.hpp"

#include <chrono>
#include <deque>
#include <string>
#include <vector>

namespace stubdomd {

class XlToolstack : public Toolstack {
public:
    // `command` is the toolstack program (searched in PATH when it has no '/'),
    // `timeout` bounds each command (zero: none), `maxParallel` (at least 1) bounds
    // how many run at once.
    XlToolstack(EventLoop& loop, std::string command, std::chrono::milliseconds timeout,
                unsigned maxParallel);
    // Settings::toolstack, Settings::toolstackTimeout, Settings::maxParallelSpawns.
    XlToolstack(EventLoop& loop, const Settings& settings);
    // Kills what still runs (their `done` is not called) and drops the queue.
    ~XlToolstack() override = default;

    void create(const std::string& configPath, bool paused, Done done) override;
    void domid(const std::string& name, Done done) override;
    void unpause(DomId domid, Done done) override;
    void destroy(DomId domid, Done done) override;
    unsigned running() const override;

    // Commands waiting for a free slot.
    unsigned queued() const;
    const std::string& command() const { return command_; }

private:
    void submit(std::vector<std::string> args, Done done);
    void startQueued();

    std::string command_;
    std::chrono::milliseconds timeout_;
    unsigned maxParallel_;
    unsigned running_ = 0;
    std::deque<std::pair<std::vector<std::string>, Done>> queue_;
    ProcessRunner runner_; // last: destroyed first, while the queue still exists
};

} // namespace stubdomd
