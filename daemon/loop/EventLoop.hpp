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

    // Blocks SIGTERM, SIGINT and SIGHUP for the calling thread (they arrive through a
    // signalfd); the destructor restores the previous mask. Create the loop before any
    // other thread so that those threads inherit the mask too.
    EventLoop();
    ~EventLoop() override;
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // `events` as for poll(); the callback gets the revents. A callback may add or
    // remove fds, including its own. The loop never closes an fd it was given.
    // Adding an fd that is already registered is an Error(Internal).
    void addFd(int fd, short events, FdCallback callback);
    void modifyFd(int fd, short events); // Error(Internal) when fd is not registered
    void removeFd(int fd);               // no-op when fd is not registered

    // Runs until stop(); SIGTERM/SIGINT (via signalfd, blocked in the constructor)
    // call the stop handler if one is set, else stop(). SIGHUP goes to the handler
    // too and is ignored without one. A stop() before run() makes run() return at
    // once. An exception from a callback is logged and the loop goes on.
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
