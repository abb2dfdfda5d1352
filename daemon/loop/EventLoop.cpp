#include "loop/EventLoop.hpp"

#include "core/Log.hpp"
#include "loop/SystemError.hpp"
#include "loop/UniqueFd.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include <cstring>
#include <ctime>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace stubdomd {

namespace {

// Whatever a callback throws must not unwind through poll(): one failed callback
// should cost one event, not the daemon.
template <typename F> void guarded(const char* what, F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        logError({}, std::string("event loop: ") + what + " failed: " + e.what());
    } catch (...) {
        logError({}, std::string("event loop: ") + what + " failed with an unknown exception");
    }
}

sigset_t handledSignals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    return set;
}

} // namespace

struct EventLoop::Impl {
    struct Watch {
        short events;
        // Shared so that a callback which removes its own fd keeps running safely.
        std::shared_ptr<FdCallback> callback;
        // Tells a re-registered fd (same number, new callback) from the one polled.
        std::uint64_t serial;
    };
    std::map<int, Watch> watches;
    std::uint64_t nextSerial = 1;

    struct Timer {
        Clock::time_point deadline;
        std::function<void()> fire;
    };
    std::map<TimerId, Timer> timers;
    std::set<std::pair<Clock::time_point, TimerId>> deadlines;
    TimerId nextTimer = 1;
    std::optional<Clock::time_point> armedFor;

    sigset_t previousMask;
    UniqueFd signalFd;
    UniqueFd timerFd;
    bool stopRequested = false;
    std::function<void(int)> signalHandler;
    std::function<int()> beforePollHook;

    void armTimer();
    void onTimerFd();
    void onSignalFd(EventLoop& loop);
    void iterate();
};

EventLoop::EventLoop() : impl_(std::make_unique<Impl>()) {
    sigset_t set = handledSignals();
    if (int err = pthread_sigmask(SIG_BLOCK, &set, &impl_->previousMask); err != 0)
        throw systemError("pthread_sigmask", err);
    impl_->signalFd.reset(signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!impl_->signalFd) {
        int err = errno;
        pthread_sigmask(SIG_SETMASK, &impl_->previousMask, nullptr);
        throw systemError("signalfd", err);
    }
    // steady_clock is CLOCK_MONOTONIC on Linux, so deadlines map to the timerfd directly.
    impl_->timerFd.reset(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
    if (!impl_->timerFd) {
        int err = errno;
        pthread_sigmask(SIG_SETMASK, &impl_->previousMask, nullptr);
        throw systemError("timerfd_create", err);
    }
    addFd(impl_->signalFd.get(), POLLIN, [this](short) { impl_->onSignalFd(*this); });
    addFd(impl_->timerFd.get(), POLLIN, [this](short) { impl_->onTimerFd(); });
}

EventLoop::~EventLoop() {
    impl_->signalFd.reset();
    pthread_sigmask(SIG_SETMASK, &impl_->previousMask, nullptr);
}

void EventLoop::addFd(int fd, short events, FdCallback callback) {
    if (impl_->watches.count(fd))
        throw Error(ErrorCode::Internal,
                    "event loop: fd " + std::to_string(fd) + " is already registered");
    impl_->watches.emplace(fd,
                           Impl::Watch{events, std::make_shared<FdCallback>(std::move(callback)),
                                       impl_->nextSerial++});
}

void EventLoop::modifyFd(int fd, short events) {
    auto it = impl_->watches.find(fd);
    if (it == impl_->watches.end())
        throw Error(ErrorCode::Internal,
                    "event loop: fd " + std::to_string(fd) + " is not registered");
    it->second.events = events;
}

void EventLoop::removeFd(int fd) {
    impl_->watches.erase(fd);
}

void EventLoop::run() {
    while (!impl_->stopRequested)
        impl_->iterate();
    impl_->stopRequested = false;
}

void EventLoop::stop() {
    impl_->stopRequested = true;
}

void EventLoop::onSignal(std::function<void(int)> handler) {
    impl_->signalHandler = std::move(handler);
}

void EventLoop::beforePoll(std::function<int()> hook) {
    impl_->beforePollHook = std::move(hook);
}

Clock::time_point EventLoop::now() const {
    return Clock::now();
}

Timers::TimerId EventLoop::after(std::chrono::milliseconds delay, std::function<void()> fire) {
    if (delay.count() < 0)
        delay = std::chrono::milliseconds(0);
    TimerId id = impl_->nextTimer++;
    auto deadline = now() + delay;
    impl_->timers.emplace(id, Impl::Timer{deadline, std::move(fire)});
    impl_->deadlines.emplace(deadline, id);
    return id;
}

void EventLoop::cancel(TimerId id) {
    auto it = impl_->timers.find(id);
    if (it == impl_->timers.end())
        return;
    impl_->deadlines.erase({it->second.deadline, id});
    impl_->timers.erase(it);
}

// Arms the timerfd for the earliest deadline, only when that changed: one syscall per
// new earliest deadline rather than per iteration.
void EventLoop::Impl::armTimer() {
    std::optional<Clock::time_point> wanted;
    if (!deadlines.empty())
        wanted = deadlines.begin()->first;
    if (wanted == armedFor)
        return;
    itimerspec spec{};
    if (wanted) {
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wanted->time_since_epoch())
                      .count();
        // A zero it_value would disarm; a deadline at or before the epoch is due anyway.
        if (ns <= 0)
            ns = 1;
        spec.it_value.tv_sec = static_cast<time_t>(ns / 1000000000);
        spec.it_value.tv_nsec = static_cast<long>(ns % 1000000000);
    }
    if (timerfd_settime(timerFd.get(), TFD_TIMER_ABSTIME, &spec, nullptr) < 0)
        throw systemError("timerfd_settime");
    armedFor = wanted;
}

void EventLoop::Impl::onTimerFd() {
    std::uint64_t expirations;
    // Only clears readiness; the deadlines themselves decide what fires.
    [[maybe_unused]] auto n = ::read(timerFd.get(), &expirations, sizeof expirations);
    armedFor.reset();
}

void EventLoop::Impl::onSignalFd(EventLoop& loop) {
    signalfd_siginfo info;
    while (::read(signalFd.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        int signo = static_cast<int>(info.ssi_signo);
        if (signalHandler)
            guarded("signal handler", [&] { signalHandler(signo); });
        else if (signo == SIGTERM || signo == SIGINT)
            loop.stop();
        else
            logInfo({}, std::string("ignoring signal ") + strsignal(signo));
    }
}

void EventLoop::Impl::iterate() {
    int timeout = -1;
    if (beforePollHook)
        guarded("beforePoll hook", [&] { timeout = beforePollHook(); });
    armTimer();

    std::vector<pollfd> fds;
    std::vector<std::uint64_t> serials;
    fds.reserve(watches.size());
    serials.reserve(watches.size());
    for (const auto& [fd, watch] : watches) {
        fds.push_back(pollfd{fd, watch.events, 0});
        serials.push_back(watch.serial);
    }
    if (::poll(fds.data(), fds.size(), timeout) < 0) {
        if (errno == EINTR)
            return;
        throw systemError("poll");
    }

    for (std::size_t i = 0; i < fds.size() && !stopRequested; ++i) {
        if (fds[i].revents == 0)
            continue;
        auto it = watches.find(fds[i].fd);
        if (it == watches.end() || it->second.serial != serials[i])
            continue; // removed (or replaced) by an earlier callback of this round
        auto callback = it->second.callback;
        short revents = fds[i].revents;
        guarded("fd callback", [&] { (*callback)(revents); });
    }

    // Fire what is due, whichever fd woke us. Timers added by these callbacks get a
    // deadline not before `now`, so a timer that re-arms itself with no delay waits for
    // the next round instead of spinning here.
    auto now = Clock::now();
    while (!stopRequested && !deadlines.empty() && deadlines.begin()->first <= now) {
        TimerId id = deadlines.begin()->second;
        deadlines.erase(deadlines.begin());
        auto node = timers.extract(id);
        guarded("timer", [&] { node.mapped().fire(); });
    }
}

} // namespace stubdomd
