#include "loop/ChildProcess.hpp"

#include "core/Log.hpp"
#include "loop/Drain.hpp"
#include "loop/Spawn.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace stubdomd {

ChildProcess::ChildProcess(EventLoop& loop, const std::string& name,
                           const std::vector<std::string>& argv, HelperLauncher::Exited exited)
    : loop_(loop), name_(name), exited_(std::move(exited)) {
    const std::string program = argv.empty() ? std::string("an empty command") : argv.front();
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
        const int err = errno;
        throw LaunchError(err, "cannot run " + program + ": pipe: " + std::strerror(err));
    }
    UniqueFd readEnd(fds[0]), writeEnd(fds[1]);
    SpawnedChild child;
    if (int err = spawnChild(argv, writeEnd.get(), writeEnd.get(), child, ParentDeath::EndsChild);
        err != 0)
        throw LaunchError(err, "cannot run " + program + ": " + std::strerror(err));
    pid_ = child.pid;
    pidfd_ = std::move(child.pidfd);
    output_ = std::move(readEnd);
    fcntl(output_.get(), F_SETFL, O_NONBLOCK);
    loop_.addFd(output_.get(), POLLIN, [this](short) { onOutput(); });
    loop_.addFd(pidfd_.get(), POLLIN, [this](short) { onExit(); });
}

ChildProcess::~ChildProcess() {
    detach();
    if (pidfd_ && !reaped_) {
        pidfdSignal(pidfd_.get(), SIGKILL);
        reapBlocking(pidfd_.get());
    }
}

void ChildProcess::signal(int signo) {
    if (pidfd_ && !reaped_)
        pidfdSignal(pidfd_.get(), signo);
}

void ChildProcess::onOutput() {
    const DrainEnd end = drainNonBlocking(output_.get(), [this](const char* data, std::size_t n) {
        pending_.append(data, n);
        logLines(false);
        return true;
    });
    if (end == DrainEnd::WouldBlock)
        return;
    // End of file (every writer is gone) or an error: stop reading.
    logLines(true);
    loop_.removeFd(output_.get());
    output_.reset();
}

void ChildProcess::logLines(bool flush) {
    LogFields fields;
    fields.helper = name_;
    std::size_t start = 0;
    for (;;) {
        const std::size_t newline = pending_.find('\n', start);
        if (newline == std::string::npos)
            break;
        logInfo(fields, pending_.substr(start, newline - start));
        start = newline + 1;
    }
    pending_.erase(0, start);
    while (pending_.size() >= maxLine) {
        logInfo(fields, pending_.substr(0, maxLine));
        pending_.erase(0, maxLine);
    }
    if (flush && !pending_.empty()) {
        logInfo(fields, pending_);
        pending_.clear();
    }
}

void ChildProcess::onExit() {
    std::string how;
    int status = 0;
    if (!reapIfExited(pidfd_.get(), how, status))
        return;
    reaped_ = true;
    // What the helper wrote before it died is in the pipe now; a grandchild that kept
    // the pipe open must not hold back the report, so take what is there and stop.
    if (output_)
        onOutput();
    detach();
    logLines(true);
    // Moved out first: the callback may destroy this object, and nothing here may run
    // after it.
    auto exited = std::move(exited_);
    if (exited)
        exited(how);
}

void ChildProcess::detach() {
    if (output_) {
        loop_.removeFd(output_.get());
        output_.reset();
    }
    if (pidfd_)
        loop_.removeFd(pidfd_.get());
}

std::unique_ptr<HelperProcess> ChildLauncher::launch(const HelperSettings& helper, Exited exited) {
    std::vector<std::string> argv{helper.path};
    argv.insert(argv.end(), helper.args.begin(), helper.args.end());
    return std::make_unique<ChildProcess>(loop_, helper.name, argv, std::move(exited));
}

} // namespace stubdomd
