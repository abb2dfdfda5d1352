#include "loop/ProcessRunner.hpp"
#include "LoopTestSupport.hpp"
#include "loop/EventLoop.hpp"

#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace stubdomd;
using namespace std::chrono_literals;
using stubdomd::test::runWithin;

namespace {

std::set<std::string> openFds() {
    std::set<std::string> fds;
    DIR* dir = opendir("/proc/self/fd");
    REQUIRE(dir != nullptr);
    while (dirent* entry = readdir(dir))
        if (entry->d_name[0] != '.')
            fds.insert(entry->d_name);
    int own = dirfd(dir);
    closedir(dir);
    fds.erase(std::to_string(own));
    return fds;
}

// True when this process has no child left, reaped or not: no zombie, no runaway.
bool noChildren() {
    return waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD;
}

// Runs one command to completion on a fresh loop.
ToolResult runOne(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = 20s) {
    EventLoop loop;
    ProcessRunner runner(loop);
    std::optional<ToolResult> result;
    runner.run(argv, timeout, [&](const ToolResult& r) {
        REQUIRE_FALSE(result.has_value());
        result = r;
        loop.stop();
    });
    REQUIRE(runWithin(loop, 30s));
    REQUIRE(result.has_value());
    CHECK(runner.running() == 0);
    return *result;
}

} // namespace

TEST_CASE("stdout and stderr are captured apart, with the exit code", "[runner]") {
    auto r = runOne({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
    CHECK(r.exitStatus == 3);
    CHECK(r.output == "out\n");
    CHECK(r.errors == "err\n");
    CHECK_FALSE(r.ok());
    CHECK(noChildren());
}

TEST_CASE("arguments reach the program as they are, without a shell", "[runner]") {
    auto r = runOne({"/bin/echo", "a b", "$HOME", "*"});
    CHECK(r.ok());
    CHECK(r.output == "a b $HOME *\n");
}

TEST_CASE("a program without '/' is searched in PATH", "[runner]") {
    auto r = runOne({"true"});
    CHECK(r.exitStatus == 0);
}

TEST_CASE("a child killed by a signal reports 128 + the signal", "[runner]") {
    // Also proves the child does not inherit the loop's blocked SIGTERM.
    auto r = runOne({"/bin/sh", "-c", "kill -TERM $$; sleep 5"});
    CHECK(r.exitStatus == 128 + SIGTERM);
}

TEST_CASE("the child starts with an empty signal mask and default dispositions", "[runner]") {
    auto r = runOne({"/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"});
    REQUIRE(r.ok());
    unsigned long long blocked = 0, ignored = 0;
    REQUIRE(std::sscanf(r.output.c_str(), "SigBlk: %llx SigIgn: %llx", &blocked, &ignored) == 2);
    CHECK(blocked == 0);
    // Signals 1-31 only: posix_spawn leaves glibc's two internal real-time signals
    // ignored (sigfillset cannot name them), and a glibc child re-installs them anyway.
    CHECK((ignored & 0x7fffffffULL) == 0);
}

TEST_CASE("stdin is /dev/null", "[runner]") {
    auto r = runOne({"/bin/cat"});
    CHECK(r.ok());
    CHECK(r.output.empty());
}

TEST_CASE("a missing program is exit status 127 with a clear message", "[runner]") {
    auto r = runOne({"/nonexistent/sbin/xl", "create"});
    CHECK(r.exitStatus == 127);
    CHECK(r.errors == "cannot run /nonexistent/sbin/xl: No such file or directory");
    CHECK(noChildren());
}

TEST_CASE("done is never called from inside run(), even for a start failure", "[runner]") {
    EventLoop loop;
    ProcessRunner runner(loop);
    bool inRun = true;
    int calls = 0;
    runner.run({"/nonexistent"}, 1s, [&](const ToolResult&) {
        CHECK_FALSE(inRun);
        ++calls;
        loop.stop();
    });
    inRun = false;
    REQUIRE(runWithin(loop, 10s));
    CHECK(calls == 1);
}

TEST_CASE("a command that outlives its timeout is killed", "[runner]") {
    auto r = runOne({"/bin/sleep", "30"}, 200ms);
    CHECK(r.exitStatus == 128 + SIGKILL);
    CHECK_THAT(r.errors, Catch::Contains("/bin/sleep killed after its timeout of 200 ms"));
    CHECK(noChildren());
}

TEST_CASE("output beyond the cap is dropped without blocking the child", "[runner]") {
    auto r = runOne({"/bin/sh", "-c", "head -c 300000 /dev/zero; head -c 300000 /dev/zero >&2"});
    CHECK(r.ok());
    CHECK(r.output.size() == ProcessRunner::outputCap);
    CHECK(r.errors.size() == ProcessRunner::outputCap);
}

TEST_CASE("many children run at once, each reported once with its own output", "[runner]") {
    EventLoop loop;
    ProcessRunner runner(loop);
    constexpr int count = 64;
    std::vector<int> reports(count, 0);
    std::vector<std::string> outputs(count);
    int finished = 0;
    for (int i = 0; i < count; ++i)
        runner.run({"/bin/sh", "-c", "sleep 0.2; echo $0", std::to_string(i)}, 20s,
                   [&, i](const ToolResult& r) {
                       ++reports[static_cast<std::size_t>(i)];
                       outputs[static_cast<std::size_t>(i)] = r.output;
                       if (++finished == count)
                           loop.stop();
                   });
    CHECK(runner.running() == count);
    REQUIRE(runWithin(loop, 30s));
    CHECK(runner.running() == 0);
    for (int i = 0; i < count; ++i) {
        CHECK(reports[static_cast<std::size_t>(i)] == 1);
        CHECK(outputs[static_cast<std::size_t>(i)] == std::to_string(i) + "\n");
    }
    CHECK(noChildren());
}

TEST_CASE("a done callback may start the next command", "[runner]") {
    EventLoop loop;
    ProcessRunner runner(loop);
    std::vector<std::string> outputs;
    runner.run({"/bin/echo", "one"}, 10s, [&](const ToolResult& first) {
        outputs.push_back(first.output);
        runner.run({"/bin/echo", "two"}, 10s, [&](const ToolResult& second) {
            outputs.push_back(second.output);
            loop.stop();
        });
    });
    REQUIRE(runWithin(loop, 30s));
    CHECK(outputs == std::vector<std::string>{"one\n", "two\n"});
}

TEST_CASE("no fd leaks into the child or out of the runner", "[runner]") {
    // An fd without CLOEXEC, as a careless library might leave one.
    // High enough not to collide with the fd ls opens to read the directory.
    int leaky = fcntl(0, F_DUPFD, 100);
    REQUIRE(leaky >= 100);
    auto before = openFds();
    auto r = runOne({"/bin/ls", "/proc/self/fd"});
    CHECK(openFds() == before);
    close(leaky);

    REQUIRE(r.ok());
    std::istringstream lines(r.output);
    std::set<std::string> childFds;
    for (std::string line; std::getline(lines, line);)
        childFds.insert(line);
    // 0, 1, 2, and the directory ls itself has open to list them.
    CHECK(childFds.count("0") == 1);
    CHECK(childFds.count("1") == 1);
    CHECK(childFds.count("2") == 1);
    CHECK(childFds.count(std::to_string(leaky)) == 0);
    CHECK(childFds.size() <= 4);
}

TEST_CASE("destroying the runner kills and reaps its children without reporting them", "[runner]") {
    auto before = openFds();
    {
        EventLoop loop;
        ProcessRunner runner(loop);
        bool reported = false;
        for (int i = 0; i < 3; ++i)
            runner.run({"/bin/sleep", "30"}, 60s, [&](const ToolResult&) { reported = true; });
        runner.run({"/nonexistent"}, 60s, [&](const ToolResult&) { reported = true; });
        CHECK(runner.running() == 3);
        CHECK_FALSE(reported);
    }
    CHECK(noChildren());
    CHECK(openFds() == before);
}

TEST_CASE("a grandchild holding the pipes open does not hold back the report", "[runner]") {
    auto started = std::chrono::steady_clock::now();
    auto r = runOne({"/bin/sh", "-c", "sleep 30 & echo $!"});
    auto took = std::chrono::steady_clock::now() - started;
    REQUIRE(r.ok());
    pid_t grandchild = static_cast<pid_t>(std::stol(r.output));
    CHECK(::kill(grandchild, SIGKILL) == 0);
    CHECK(took < 20s);
}
