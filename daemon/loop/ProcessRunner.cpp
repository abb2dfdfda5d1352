#include "loop/ProcessRunner.hpp"

#include "core/Log.hpp"
#include "loop/Spawn.hpp"
#include "loop/UniqueFd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

namespace stubdomd {

namespace {

ToolResult startFailure(const std::string& program, int err) {
    ToolResult result;
    result.exitStatus = 127; // what a shell reports for a command it cannot run
    result.errors = "cannot run " + program + ": " + std::strerror(err);
    return result;
}

// Appends what the pipe holds now, up to the cap; returns false at end of file.
bool readAvailable(int fd, std::string& into) {
    char buffer[16384];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n > 0) {
            std::size_t room =
                ProcessRunner::outputCap - std::min(into.size(), ProcessRunner::outputCap);
            into.append(buffer, std::min(room, static_cast<std::size_t>(n)));
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        // EAGAIN: all there is for now. Any other error ends the stream like EOF.
        return n < 0 && errno == EAGAIN;
    }
}

} // namespace

struct ProcessRunner::Impl {
    struct Child {
        std::string program;
        UniqueFd pidfd;
        UniqueFd out;
        UniqueFd err;
        std::string output;
        std::string errors;
        Timers::TimerId timer = 0;
        std::chrono::milliseconds timeout{0};
        bool timedOut = false;
        Toolstack::Done done;
    };

    EventLoop& loop;
    std::map<std::uint64_t, std::unique_ptr<Child>> children;
    // Start failures waiting for their report from the loop: key -> timer.
    std::map<std::uint64_t, Timers::TimerId> pendingFailures;
    std::uint64_t nextId = 1;

    explicit Impl(EventLoop& l) : loop(l) {}

    void reportLater(ToolResult result, Toolstack::Done done);
    void onPipe(std::uint64_t id, bool isStdout);
    void onExit(std::uint64_t id);
    void onTimeout(std::uint64_t id);
    void forget(Child& child);
};

ProcessRunner::ProcessRunner(EventLoop& loop) : impl_(std::make_unique<Impl>(loop)) {}

ProcessRunner::~ProcessRunner() {
    for (auto& [id, child] : impl_->children) {
        impl_->forget(*child);
        pidfdSignal(child->pidfd.get(), SIGKILL);
        reapBlocking(child->pidfd.get());
    }
    for (auto& [key, timer] : impl_->pendingFailures)
        impl_->loop.cancel(timer);
}

unsigned ProcessRunner::running() const {
    return static_cast<unsigned>(impl_->children.size());
}

void ProcessRunner::run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                        Toolstack::Done done) {
    if (argv.empty()) {
        impl_->reportLater(startFailure("an empty command", EINVAL), std::move(done));
        return;
    }
    const std::string& program = argv.front();

    int outPipe[2];
    int errPipe[2];
    if (pipe2(outPipe, O_CLOEXEC) < 0) {
        impl_->reportLater(startFailure(program, errno), std::move(done));
        return;
    }
    UniqueFd outRead(outPipe[0]), outWrite(outPipe[1]);
    if (pipe2(errPipe, O_CLOEXEC) < 0) {
        impl_->reportLater(startFailure(program, errno), std::move(done));
        return;
    }
    UniqueFd errRead(errPipe[0]), errWrite(errPipe[1]);

    SpawnedChild spawned;
    if (int err = spawnChild(argv, outWrite.get(), errWrite.get(), spawned); err != 0) {
        impl_->reportLater(startFailure(program, err), std::move(done));
        return;
    }
    outWrite.reset();
    errWrite.reset();
    UniqueFd pidfd = std::move(spawned.pidfd);
    fcntl(outRead.get(), F_SETFL, O_NONBLOCK);
    fcntl(errRead.get(), F_SETFL, O_NONBLOCK);

    auto child = std::make_unique<Impl::Child>();
    child->program = program;
    child->pidfd = std::move(pidfd);
    child->out = std::move(outRead);
    child->err = std::move(errRead);
    child->timeout = timeout;
    child->done = std::move(done);

    std::uint64_t id = impl_->nextId++;
    Impl* impl = impl_.get();
    impl->loop.addFd(child->out.get(), POLLIN, [impl, id](short) { impl->onPipe(id, true); });
    impl->loop.addFd(child->err.get(), POLLIN, [impl, id](short) { impl->onPipe(id, false); });
    impl->loop.addFd(child->pidfd.get(), POLLIN, [impl, id](short) { impl->onExit(id); });
    if (timeout.count() > 0)
        child->timer = impl->loop.after(timeout, [impl, id] { impl->onTimeout(id); });
    impl->children.emplace(id, std::move(child));
}

void ProcessRunner::Impl::reportLater(ToolResult result, Toolstack::Done done) {
    // The caller may hold state that `done` changes; reporting from the loop keeps
    // "done never runs inside run()" true for failures as well.
    std::uint64_t key = nextId++;
    pendingFailures[key] =
        loop.after(std::chrono::milliseconds(0),
                   [this, key, result = std::move(result), done = std::move(done)] {
                       pendingFailures.erase(key);
                       if (done)
                           done(result);
                   });
}

void ProcessRunner::Impl::onPipe(std::uint64_t id, bool isStdout) {
    auto it = children.find(id);
    if (it == children.end())
        return;
    Child& child = *it->second;
    UniqueFd& fd = isStdout ? child.out : child.err;
    if (!readAvailable(fd.get(), isStdout ? child.output : child.errors)) {
        loop.removeFd(fd.get());
        fd.reset();
    }
}

void ProcessRunner::Impl::onExit(std::uint64_t id) {
    auto it = children.find(id);
    if (it == children.end())
        return;
    Child& child = *it->second;
    siginfo_t info{};
    if (waitid(P_PIDFD, static_cast<id_t>(child.pidfd.get()), &info, WEXITED | WNOHANG) < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return;
        logError({}, child.program + ": waitid: " + std::strerror(errno));
        info.si_pid = 1; // report it rather than watch a pidfd that will never settle
        info.si_code = CLD_KILLED;
        info.si_status = SIGKILL;
    }
    if (info.si_pid == 0)
        return; // not exited yet

    // Everything the child wrote is in the pipes now. A grandchild that kept them open
    // must not hold the report back, so take what is there and stop reading.
    if (child.out)
        readAvailable(child.out.get(), child.output);
    if (child.err)
        readAvailable(child.err.get(), child.errors);

    ToolResult result;
    result.exitStatus = info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
    result.output = std::move(child.output);
    result.errors = std::move(child.errors);
    if (child.timedOut) {
        if (!result.errors.empty() && result.errors.back() != '\n')
            result.errors += '\n';
        result.errors += child.program + " killed after its timeout of " +
                         std::to_string(child.timeout.count()) + " ms";
    }

    forget(child);
    std::string program = std::move(child.program);
    Toolstack::Done done = std::move(child.done);
    children.erase(it); // closes the fds before `done` can start the next child
    if (!done)
        return;
    try {
        done(result);
    } catch (const std::exception& e) {
        logError({}, "after " + program + ": completion handler failed: " + e.what());
    }
}

void ProcessRunner::Impl::onTimeout(std::uint64_t id) {
    auto it = children.find(id);
    if (it == children.end())
        return;
    Child& child = *it->second;
    child.timer = 0;
    child.timedOut = true;
    pidfdSignal(child.pidfd.get(), SIGKILL);
}

// Detaches the child from the loop (fds and timer); its fds stay open until it is dropped.
void ProcessRunner::Impl::forget(Child& child) {
    for (UniqueFd* fd : {&child.out, &child.err, &child.pidfd})
        if (*fd)
            loop.removeFd(fd->get());
    if (child.timer != 0)
        loop.cancel(child.timer);
    child.timer = 0;
}

} // namespace stubdomd
