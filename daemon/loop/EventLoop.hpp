// The daemon's single thread: one poll() over every fd (xenstore, sd-bus, signalfd,
// timerfd, child pidfds and pipes). Callbacks run on this thread only.
#pragma once

#include "core/Timers.hpp"

#include <functional>
#include <memory>

namespace stubdomd {

class EventLoop : public Timers {
public:
    using FdCallback = std::function<void(short revents)>;

    EventLoop();
    ~EventLoop() override;
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // `events` as for poll(); the callback gets the revents. A callback may add or
    // remove fds, including its own.
    void addFd(int fd, short events, FdCallback callback);
    void modifyFd(int fd, short events);
    void removeFd(int fd);

    // Runs until stop(); SIGTERM/SIGINT (via signalfd, blocked in the constructor)
    // call the stop handler if one is set, else stop().
    void run();
    void stop();
    void onSignal(std::function<void(int signo)> handler);
    // Called before each poll(): the sd-bus adaptor refreshes its fd's events and
    // timeout there. Returns the longest poll() may wait in ms (-1: no limit).
    void beforePoll(std::function<int()> hook);

    Clock::time_point now() const override;
    TimerId after(std::chrono::milliseconds delay, std::function<void()> fire) override;
    void cancel(TimerId id) override;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace stubdomd
