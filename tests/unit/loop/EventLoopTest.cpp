#include "loop/EventLoop.hpp"
#include "LoopTestSupport.hpp"
#include "core/Errors.hpp"
#include "loop/UniqueFd.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <vector>

using namespace stubdomd;
using namespace std::chrono_literals;
using stubdomd::test::LogCapture;
using stubdomd::test::Pipe;
using stubdomd::test::runWithin;

namespace {

bool isBlocked(int signo) {
    sigset_t current;
    pthread_sigmask(SIG_SETMASK, nullptr, &current);
    return sigismember(&current, signo) == 1;
}

} // namespace

TEST_CASE("timers fire in deadline order, not in the order they were set", "[loop][timers]") {
    EventLoop loop;
    std::vector<int> fired;
    loop.after(60ms, [&] {
        fired.push_back(3);
        loop.stop();
    });
    loop.after(20ms, [&] { fired.push_back(1); });
    loop.after(40ms, [&] { fired.push_back(2); });
    REQUIRE(runWithin(loop, 10s));
    CHECK(fired == std::vector<int>{1, 2, 3});
}

TEST_CASE("timer ids are distinct and never 0", "[loop][timers]") {
    EventLoop loop;
    auto a = loop.after(1s, [] {});
    auto b = loop.after(1s, [] {});
    CHECK(a != 0);
    CHECK(b != 0);
    CHECK(a != b);
}

TEST_CASE("a cancelled timer does not fire; cancelling twice or after firing is a no-op",
          "[loop][timers]") {
    EventLoop loop;
    bool cancelledFired = false;
    int fired = 0;
    auto cancelled = loop.after(10ms, [&] { cancelledFired = true; });
    auto early = loop.after(0ms, [&] { ++fired; });
    loop.cancel(cancelled);
    loop.cancel(cancelled);
    loop.after(50ms, [&] {
        loop.cancel(early); // already fired
        loop.stop();
    });
    REQUIRE(runWithin(loop, 10s));
    CHECK_FALSE(cancelledFired);
    CHECK(fired == 1);
}

TEST_CASE("a timer may cancel another one that is due in the same round", "[loop][timers]") {
    EventLoop loop;
    Timers::TimerId second = 0;
    bool secondFired = false;
    loop.after(0ms, [&] { loop.cancel(second); });
    second = loop.after(0ms, [&] { secondFired = true; });
    loop.after(30ms, [&] { loop.stop(); });
    REQUIRE(runWithin(loop, 10s));
    CHECK_FALSE(secondFired);
}

TEST_CASE("a timer may set new timers, including zero-delay ones, from its callback",
          "[loop][timers]") {
    EventLoop loop;
    int rounds = 0;
    std::function<void()> again = [&] {
        if (++rounds == 100)
            loop.stop();
        else
            loop.after(0ms, again);
    };
    loop.after(0ms, again);
    REQUIRE(runWithin(loop, 10s));
    CHECK(rounds == 100);
}

TEST_CASE("an earlier timer set while a later one is armed still fires first", "[loop][timers]") {
    EventLoop loop;
    std::vector<std::string> fired;
    loop.after(5s, [&] { fired.push_back("late"); });
    loop.after(10ms, [&] {
        fired.push_back("first");
        loop.after(10ms, [&] {
            fired.push_back("second");
            loop.stop();
        });
    });
    REQUIRE(runWithin(loop, 10s));
    CHECK(fired == std::vector<std::string>{"first", "second"});
}

TEST_CASE("fd callbacks get the revents of their fd", "[loop][fd]") {
    EventLoop loop;
    Pipe pipe;
    std::string received;
    short seen = 0;
    loop.addFd(pipe.read.get(), POLLIN, [&](short revents) {
        seen = revents;
        received = pipe.take();
        loop.stop();
    });
    loop.after(10ms, [&] { pipe.put("hello"); });
    REQUIRE(runWithin(loop, 10s));
    CHECK((seen & POLLIN) != 0);
    CHECK(received == "hello");
}

TEST_CASE("a callback may remove its own fd", "[loop][fd]") {
    EventLoop loop;
    Pipe pipe;
    int calls = 0;
    loop.addFd(pipe.read.get(), POLLIN, [&](short) {
        ++calls;
        loop.removeFd(pipe.read.get());
    });
    pipe.put("x"); // never read: the fd stays readable, so a second call would show
    loop.after(50ms, [&] { loop.stop(); });
    REQUIRE(runWithin(loop, 10s));
    CHECK(calls == 1);
}

TEST_CASE("a callback may remove another ready fd, which then is not called", "[loop][fd]") {
    EventLoop loop;
    Pipe a, b;
    int calls = 0;
    auto removeBoth = [&](short) {
        ++calls;
        loop.removeFd(a.read.get());
        loop.removeFd(b.read.get());
    };
    loop.addFd(a.read.get(), POLLIN, removeBoth);
    loop.addFd(b.read.get(), POLLIN, removeBoth);
    a.put("x");
    b.put("x");
    loop.after(50ms, [&] { loop.stop(); });
    REQUIRE(runWithin(loop, 10s));
    CHECK(calls == 1);
}

TEST_CASE("a callback may replace its fd's callback; the old readiness is not replayed",
          "[loop][fd]") {
    EventLoop loop;
    Pipe pipe;
    int oldCalls = 0, newCalls = 0;
    loop.addFd(pipe.read.get(), POLLIN, [&](short) {
        ++oldCalls;
        loop.removeFd(pipe.read.get());
        loop.addFd(pipe.read.get(), POLLIN, [&](short) {
            ++newCalls;
            pipe.take();
            loop.stop();
        });
    });
    pipe.put("x");
    REQUIRE(runWithin(loop, 10s));
    CHECK(oldCalls == 1);
    CHECK(newCalls == 1);
}

TEST_CASE("a callback may add fds", "[loop][fd]") {
    EventLoop loop;
    Pipe first, second;
    std::vector<std::string> order;
    loop.addFd(first.read.get(), POLLIN, [&](short) {
        order.push_back(first.take());
        loop.addFd(second.read.get(), POLLIN, [&](short) {
            order.push_back(second.take());
            loop.stop();
        });
        second.put("two");
    });
    first.put("one");
    REQUIRE(runWithin(loop, 10s));
    CHECK(order == std::vector<std::string>{"one", "two"});
}

TEST_CASE("modifyFd changes the events polled for", "[loop][fd]") {
    EventLoop loop;
    Pipe pipe;
    int calls = 0;
    loop.addFd(pipe.read.get(), 0, [&](short) {
        ++calls;
        pipe.take();
        loop.stop();
    });
    pipe.put("x");
    loop.after(50ms, [&] {
        CHECK(calls == 0);
        loop.modifyFd(pipe.read.get(), POLLIN);
    });
    REQUIRE(runWithin(loop, 10s));
    CHECK(calls == 1);
}

TEST_CASE("registering an fd twice or modifying an unknown one is an internal error",
          "[loop][fd]") {
    EventLoop loop;
    Pipe pipe;
    loop.addFd(pipe.read.get(), POLLIN, [](short) {});
    try {
        loop.addFd(pipe.read.get(), POLLIN, [](short) {});
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::Internal);
    }
    loop.removeFd(pipe.read.get());
    loop.removeFd(pipe.read.get()); // unknown: no-op
    CHECK_THROWS_AS(loop.modifyFd(pipe.read.get(), POLLIN), Error);
}

TEST_CASE("an exception from a callback is logged and the loop goes on", "[loop]") {
    LogCapture log;
    EventLoop loop;
    bool later = false;
    loop.after(0ms, [] { throw std::runtime_error("boom"); });
    loop.after(20ms, [&] {
        later = true;
        loop.stop();
    });
    REQUIRE(runWithin(loop, 10s));
    CHECK(later);
    REQUIRE(log.lines.size() == 1);
    CHECK_THAT(log.lines[0], Catch::Contains("boom"));
}

TEST_CASE("beforePoll runs before every poll and bounds its wait", "[loop]") {
    EventLoop loop;
    int calls = 0;
    // No fd or timer would wake the loop: only the hook's 5 ms bound lets it spin.
    loop.beforePoll([&] {
        if (++calls == 5)
            loop.stop();
        return 5;
    });
    REQUIRE(runWithin(loop, 10s));
    CHECK(calls >= 5);
}

TEST_CASE("stop() before run() makes run() return at once, and run() can run again", "[loop]") {
    EventLoop loop;
    bool fired = false;
    loop.after(0ms, [&] { fired = true; });
    loop.stop();
    loop.run();
    CHECK_FALSE(fired);
    loop.after(10ms, [&] { loop.stop(); });
    REQUIRE(runWithin(loop, 10s));
    CHECK(fired);
}

TEST_CASE("SIGTERM reaches the signal handler through the loop", "[loop][signals]") {
    EventLoop loop;
    std::vector<int> signals;
    loop.onSignal([&](int signo) {
        signals.push_back(signo);
        if (signo == SIGTERM)
            loop.stop();
    });
    loop.after(0ms, [] {
        raise(SIGHUP);
        raise(SIGTERM);
    });
    REQUIRE(runWithin(loop, 10s));
    CHECK(signals == std::vector<int>{SIGHUP, SIGTERM});
}

TEST_CASE("without a handler SIGINT stops the loop and SIGHUP is ignored", "[loop][signals]") {
    LogCapture log;
    EventLoop loop;
    bool afterHup = false;
    loop.after(0ms, [] { raise(SIGHUP); });
    loop.after(30ms, [&] {
        afterHup = true;
        raise(SIGINT);
    });
    REQUIRE(runWithin(loop, 10s));
    CHECK(afterHup);
}

TEST_CASE("the loop blocks its signals while it lives and restores the mask after",
          "[loop][signals]") {
    REQUIRE_FALSE(isBlocked(SIGTERM));
    {
        EventLoop loop;
        CHECK(isBlocked(SIGTERM));
        CHECK(isBlocked(SIGINT));
        CHECK(isBlocked(SIGHUP));
    }
    CHECK_FALSE(isBlocked(SIGTERM));
}
