// ChildProcess on a real event loop: output logged by line with the helper's name,
// the exit reported once, and nothing left behind (no zombie, no fd).
#include "loop/ChildProcess.hpp"
#include "core/Log.hpp"
#include "loop/EventLoop.hpp"

#include <catch2/catch.hpp>

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>

using namespace stubdomd;
using namespace std::chrono_literals;

namespace {

unsigned openFds() {
    unsigned n = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
        while (readdir(d))
            ++n;
        closedir(d);
    }
    return n;
}

struct Captured {
    std::vector<std::string> lines; // "helper: message"
    LogSink previous;
    Captured()
        : previous(setLogSink([this](LogLevel, const LogFields& f, const std::string& m) {
              lines.push_back(f.helper + ": " + m);
          })) {}
    ~Captured() { setLogSink(previous); }
};

bool runUntil(EventLoop& loop, const std::function<bool()>& done) {
    auto deadline = loop.now() + 20s;
    while (!done() && loop.now() < deadline) {
        auto tick = loop.after(10ms, [&loop] { loop.stop(); });
        loop.run();
        loop.cancel(tick);
    }
    return done();
}

bool noChildLeft() {
    return waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD;
}

} // namespace

TEST_CASE("a child's output is logged line by line with its name, and its exit reported",
          "[child]") {
    Captured log;
    EventLoop loop;
    const unsigned fdsBefore = openFds();
    std::string how;
    {
        ChildProcess child(loop, "fs-backend",
                           {"/bin/sh", "-c", "echo one; echo two >&2; printf tail; exit 3"},
                           [&](const std::string& h) { how = h; });
        CHECK(child.pid() > 0);
        REQUIRE(runUntil(loop, [&] { return !how.empty(); }));
    }
    CHECK(how == "exited with status 3");
    CHECK(log.lines ==
          std::vector<std::string>{"fs-backend: one", "fs-backend: two", "fs-backend: tail"});
    CHECK(openFds() == fdsBefore);
    CHECK(noChildLeft());
}

TEST_CASE("a child killed by a signal says so", "[child]") {
    EventLoop loop;
    std::string how;
    ChildProcess child(loop, "h", {"/bin/sleep", "60"}, [&](const std::string& h) { how = h; });
    child.signal(SIGTERM);
    REQUIRE(runUntil(loop, [&] { return !how.empty(); }));
    CHECK(how == "killed by signal 15");
}

TEST_CASE("dropping a running child kills and reaps it without a report", "[child]") {
    EventLoop loop;
    const unsigned fdsBefore = openFds();
    bool reported = false;
    {
        ChildProcess child(loop, "h", {"/bin/sh", "-c", "trap '' TERM; sleep 60"},
                           [&](const std::string&) { reported = true; });
    }
    CHECK_FALSE(reported);
    CHECK(openFds() == fdsBefore);
    // The shell is reaped; its sleep is orphaned to init, not ours.
    CHECK(waitpid(-1, nullptr, WNOHANG) <= 0);
}

TEST_CASE("a missing program is a LaunchError with ENOENT and leaks nothing", "[child]") {
    EventLoop loop;
    const unsigned fdsBefore = openFds();
    try {
        ChildProcess child(loop, "fs-backend", {"/nonexistent/fs-backend"},
                           [](const std::string&) {});
        FAIL("no error");
    } catch (const LaunchError& e) {
        CHECK(e.err() == ENOENT);
        CHECK(std::string(e.what()) ==
              "cannot run /nonexistent/fs-backend: No such file or directory");
    }
    CHECK(openFds() == fdsBefore);
    CHECK(noChildLeft());
}

TEST_CASE("a child writing without newlines is logged in bounded pieces", "[child]") {
    Captured log;
    EventLoop loop;
    std::string how;
    ChildProcess child(loop, "h", {"/bin/sh", "-c", "head -c 10000 /dev/zero | tr '\\0' x"},
                       [&](const std::string& h) { how = h; });
    REQUIRE(runUntil(loop, [&] { return !how.empty(); }));
    REQUIRE(log.lines.size() == 3);
    CHECK(log.lines[0] == "h: " + std::string(ChildProcess::maxLine, 'x'));
    CHECK(log.lines[0].size() == 3 + ChildProcess::maxLine);
    CHECK(log.lines[2].size() == 3 + 10000 - 2 * ChildProcess::maxLine);
}
