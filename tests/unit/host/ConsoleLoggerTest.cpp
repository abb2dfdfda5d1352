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
