// The stub consoles' logs: what the stub writes on its pty lands in the log, appended; a
// path that is not a pty is never opened.
#include "host/ConsoleLogger.hpp"

#include "config/TempDir.hpp"
#include "core/Log.hpp"
#include "host/WriteAll.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

using namespace stubdomd;
using namespace std::chrono_literals;
using stubdomd::test::TempDir;

namespace {

// A pty pair as xenconsoled makes one: the master is the stub's side.
struct Pty {
    UniqueFd master;
    std::string slave;
    Pty() {
        master.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
        REQUIRE(master);
        REQUIRE(::grantpt(master.get()) == 0);
        REQUIRE(::unlockpt(master.get()) == 0);
        slave = ::ptsname(master.get());
    }
};

std::string contentOf(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// Turns the loop until `done`, a turn at a time; meson's timeout is the backstop.
void runUntil(EventLoop& loop, const std::function<bool()>& done) {
    while (!done()) {
        auto tick = loop.after(10ms, [&loop] { loop.stop(); });
        loop.run();
        loop.cancel(tick);
    }
}

struct Warnings {
    std::vector<std::string> lines;
    LogSink previous;
    Warnings()
        : previous(setLogSink([this](LogLevel level, const LogFields&, const std::string& m) {
              if (level == LogLevel::Warning)
                  lines.push_back(m);
          })) {}
    ~Warnings() { setLogSink(previous); }
};

} // namespace

TEST_CASE("what the stub writes on its console is appended to the log", "[host][console]") {
    TempDir dir;
    REQUIRE(::mkdir((dir.path() + "/logs").c_str(), 0755) == 0);
    const std::string path = dir.path() + "/logs/qemu-dm-guest.log";
    { std::ofstream(path) << "earlier\n"; }
    EventLoop loop;
    ConsoleLogger logger(loop);
    Pty pty;
    logger.follow(DomId{7}, pty.slave, path);
    const std::string line = "stub says hello\n";
    REQUIRE(writeAll(pty.master.get(), line.data(), line.size()));
    runUntil(loop, [&] { return contentOf(path).find("hello") != std::string::npos; });
    CHECK(contentOf(path).rfind("earlier\n", 0) == 0);
    logger.stop(DomId{7});
}

TEST_CASE("the log's directory is made when missing", "[host][console]") {
    TempDir dir;
    const std::string path = dir.path() + "/new/dir/qemu-dm-g.log";
    EventLoop loop;
    ConsoleLogger logger(loop);
    Pty pty;
    logger.follow(DomId{8}, pty.slave, path);
    REQUIRE(writeAll(pty.master.get(), "x\n", 2));
    runUntil(loop, [&] { return !contentOf(path).empty(); });
    CHECK(contentOf(path).find('x') != std::string::npos);
}

TEST_CASE("a path that is not a pty is refused with a warning", "[host][console]") {
    TempDir dir;
    Warnings warnings;
    EventLoop loop;
    ConsoleLogger logger(loop);
    const std::string notPty = dir.write("not-a-pty", "");
    logger.follow(DomId{9}, notPty, dir.path() + "/log");
    logger.follow(DomId{9}, "/dev/pts/../../etc/passwd", dir.path() + "/log");
    REQUIRE(warnings.lines.size() == 2);
    CHECK_THAT(warnings.lines[0], Catch::Contains("is not a pty"));
    CHECK_THAT(warnings.lines[1], Catch::Contains("is not a pty"));
    CHECK(::access((dir.path() + "/log").c_str(), F_OK) != 0);
}

namespace {
std::uint64_t sizeOf(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}
} // namespace

TEST_CASE("a flooding console keeps the log and its .1 within the cap", "[host][console]") {
    TempDir dir;
    const std::string path = dir.path() + "/qemu-dm-flood.log";
    // A log of an earlier run without the cap is brought under it.
    { std::ofstream(path + ".1") << std::string(100000, 'o'); }
    constexpr std::uint64_t cap = 32 * 1024;
    EventLoop loop;
    ConsoleLogger logger(loop, cap);
    Pty pty;
    logger.follow(DomId{10}, pty.slave, path);
    // Ten times the cap, twenty numbered lines at a time, each batch waited for: the pty's
    // buffer never fills, and every byte passes the cap's check.
    for (int i = 0; i < 3300; ++i) {
        char number[16];
        std::snprintf(number, sizeof number, "line %05d ", i);
        const std::string line = number + std::string(88, 'x') + "\n";
        REQUIRE(writeAll(pty.master.get(), line.data(), line.size()));
        if (i % 20 == 19)
            runUntil(loop, [&] {
                // Both files: a rotation may fall inside the line.
                return (contentOf(path + ".1") + contentOf(path)).find(number) != std::string::npos;
            });
        CHECK(sizeOf(path) + sizeOf(path + ".1") <= cap);
    }
    const std::string last = "the last line\n";
    REQUIRE(writeAll(pty.master.get(), last.data(), last.size()));
    runUntil(loop, [&] { return contentOf(path).find("the last line") != std::string::npos; });
    CHECK(sizeOf(path) <= cap / 2);
    CHECK(sizeOf(path + ".1") == cap / 2);
    CHECK(contentOf(path + ".1").find('o') == std::string::npos);
    logger.stop(DomId{10});
}

TEST_CASE("a log directory that cannot be made is reported once", "[host][console]") {
    TempDir dir;
    // A file where the directory should be: mkdir fails whoever runs the test (root too).
    const std::string blocker = dir.write("not-a-dir", "");
    Warnings warnings;
    EventLoop loop;
    ConsoleLogger logger(loop);
    Pty first;
    Pty second;
    logger.follow(DomId{11}, first.slave, blocker + "/qemu-dm-a.log");
    logger.follow(DomId{12}, second.slave, blocker + "/qemu-dm-b.log");
    REQUIRE(warnings.lines.size() == 1);
    CHECK_THAT(warnings.lines[0], Catch::Contains(blocker) && Catch::Contains("said once"));
}

TEST_CASE("a follower gets what is logged next, and is cut off when it falls behind",
          "[host][console]") {
    TempDir dir;
    const std::string path = dir.path() + "/qemu-dm-f.log";
    EventLoop loop;
    ConsoleLogger logger(loop, 64 * 1024 * 1024);
    Pty pty;
    logger.follow(DomId{13}, pty.slave, path);
    UniqueFd follower(logger.openFollower(path));
    REQUIRE(follower);
    const std::string hello = "hello follower\n";
    REQUIRE(writeAll(pty.master.get(), hello.data(), hello.size()));
    runUntil(loop, [&] { return contentOf(path).find("hello follower") != std::string::npos; });
    char got[64] = {};
    REQUIRE(::read(follower.get(), got, sizeof got) == static_cast<ssize_t>(hello.size()));
    CHECK(std::string(got) == hello);
    // Nobody reads it now: past a socket buffer, the daemon lets it go rather than wait.
    const std::string chunk(4000, 'z');
    std::uint64_t logged = 0;
    for (int i = 0; i < 400; ++i) {
        REQUIRE(writeAll(pty.master.get(), chunk.data(), chunk.size()));
        logged += chunk.size();
        runUntil(loop, [&] { return sizeOf(path) >= hello.size() + logged; });
    }
    // Non-blocking: a follower that was not cut off fails the test instead of hanging it.
    REQUIRE(::fcntl(follower.get(), F_SETFL, O_NONBLOCK) == 0);
    std::vector<char> sink(1 << 20);
    ssize_t n = 0;
    std::uint64_t received = 0;
    while ((n = ::read(follower.get(), sink.data(), sink.size())) > 0)
        received += static_cast<std::uint64_t>(n);
    CHECK(n == 0); // EOF: cut off
    CHECK(received < logged);
    logger.stop(DomId{13});
}
