// A long-running child of the event loop (a helper such as fs-backend): watched by a
// pidfd, its stdout and stderr read from one pipe and logged line by line with the
// helper's name (log field HELPER=).
#pragma once

#include "loop/EventLoop.hpp"
#include "loop/HelperLauncher.hpp"
#include "loop/UniqueFd.hpp"

#include <memory>
#include <string>
#include <vector>

namespace stubdomd {

class ChildProcess final : public HelperProcess {
public:
    // Longer lines are logged in pieces of this size, so that a helper writing without
    // newlines cannot grow the daemon's memory.
    static constexpr std::size_t maxLine = 4096;

    // Starts argv with the output logged as `name`'s; throws LaunchError.
    // `loop` must outlive the child.
    ChildProcess(EventLoop& loop, const std::string& name, const std::vector<std::string>& argv,
                 HelperLauncher::Exited exited);
    ~ChildProcess() override;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const override { return pid_; }
    void signal(int signo) override;

private:
    void onOutput();
    void onExit();
    void logLines(bool flush);
    void detach();

    EventLoop& loop_;
    std::string name_;
    HelperLauncher::Exited exited_;
    pid_t pid_ = 0;
    UniqueFd pidfd_;
    UniqueFd output_;
    std::string pending_; // output not yet ended by a newline
    bool reaped_ = false;
};

// The real launcher: a ChildProcess per start.
class ChildLauncher final : public HelperLauncher {
public:
    explicit ChildLauncher(EventLoop& loop) : loop_(loop) {}
    std::unique_ptr<HelperProcess> launch(const HelperSettings& helper, Exited exited) override;

private:
    EventLoop& loop_;
};

} // namespace stubdomd
