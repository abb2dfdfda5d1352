// spawnChild's two ways to start a child: what either child gets (stdio, fds, signals,
// PATH search, errors), and what becomes of it when the daemon dies without stopping it.
#include "loop/Spawn.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

using namespace stubdomd;

namespace {

std::string readAll(int fd) {
    std::string out;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            out.append(buffer, static_cast<std::size_t>(n));
    return out;
}

// A mask line of /proc/PID/status in `output` ("SigIgn:\t0000000000000004").
unsigned long long signalMask(const std::string& output, const std::string& name) {
    const auto at = output.find(name + ":\t");
    REQUIRE(at != std::string::npos);
    return std::stoull(output.substr(at + name.size() + 2, 16), nullptr, 16);
}

// Runs argv to its end and returns its stdout and stderr (one pipe) and wait status.
std::pair<std::string, int> run(const std::vector<std::string>& argv, ParentDeath how) {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    UniqueFd readEnd(fds[0]), writeEnd(fds[1]);
    SpawnedChild child;
    REQUIRE(spawnChild(argv, writeEnd.get(), writeEnd.get(), child, how) == 0);
    writeEnd.reset();
    std::string output = readAll(readEnd.get());
    int status = 0;
    REQUIRE(::waitpid(child.pid, &status, 0) == child.pid);
    return {output, status};
}

// A daemon in miniature: a process that starts `sleep 60` as `how` says and then dies by
// SIGKILL without stopping it. This process is made the subreaper, so the orphaned sleep
// comes back to it and its end can be read. Returns the sleep's wait status once it ends,
// after killing it here if it is still running.
int fateOfOrphan(ParentDeath how) {
    REQUIRE(::prctl(PR_SET_CHILD_SUBREAPER, 1) == 0);
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    const pid_t daemon = ::fork();
    REQUIRE(daemon >= 0);
    if (daemon == 0) {
        SpawnedChild child;
        if (spawnChild({"sleep", "60"}, 2, 2, child, how) != 0)
            ::_exit(1);
        pid_t pid = child.pid;
        (void)!::write(fds[1], &pid, sizeof pid);
        ::kill(::getpid(), SIGKILL);
    }
    ::close(fds[1]);
    pid_t orphan = 0;
    const bool told = ::read(fds[0], &orphan, sizeof orphan) == sizeof orphan;
    ::close(fds[0]);
    int status = 0;
    REQUIRE(::waitpid(daemon, &status, 0) == daemon);
    REQUIRE(told);
    // The kernel has sent any death signal by now: it does so before the dead parent
    // can be reaped. An orphan that runs on is ended here, with another signal.
    ::kill(orphan, SIGKILL);
    REQUIRE(::waitpid(orphan, &status, 0) == orphan);
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
    return status;
}

} // namespace

TEST_CASE("either way, a child gets stdout/stderr, no other fd and default signals", "[spawn]") {
    for (const auto how : {ParentDeath::ChildRunsOn, ParentDeath::EndsChild}) {
        CAPTURE(static_cast<int>(how));
        // An fd without close-on-exec, as libraries leave them: not inherited either.
        const int leaky = ::open("/dev/null", O_RDONLY);
        REQUIRE(leaky > 2);
        // Blocked and ignored here, as the event loop does with the signals it takes.
        sigset_t blocked, old;
        sigemptyset(&blocked);
        sigaddset(&blocked, SIGTERM);
        ::sigprocmask(SIG_BLOCK, &blocked, &old);
        const auto oldPipe = ::signal(SIGPIPE, SIG_IGN);

        const auto [output, status] = run(
            {"sh", "-c",
             "ls /proc/self/fd | tr '\\n' ' '; echo; grep -E '^Sig(Blk|Ign)' /proc/self/status; "
             "echo err >&2; read x; echo \"stdin [$x]\""},
            how);

        ::signal(SIGPIPE, oldPipe);
        ::sigprocmask(SIG_SETMASK, &old, nullptr);
        ::close(leaky);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
        // sh, then ls, see 0 1 2 and ls's own directory fd (3); no fd of this process.
        CHECK(output.rfind("0 1 2 3 \n", 0) == 0);
        // Signals 1-31; glibc keeps its own (32, 33: thread cancellation, setxid) itself.
        CHECK((signalMask(output, "SigBlk") & 0x7fffffffu) == 0);
        CHECK((signalMask(output, "SigIgn") & 0x7fffffffu) == 0);
        CHECK(output.find("err\n") != std::string::npos);
        CHECK(output.find("stdin []\n") != std::string::npos); // /dev/null
    }
}

TEST_CASE("either way, a missing program is ENOENT and an empty argv EINVAL", "[spawn]") {
    for (const auto how : {ParentDeath::ChildRunsOn, ParentDeath::EndsChild}) {
        SpawnedChild child;
        CHECK(spawnChild({"no-such-program-stubdomd"}, 2, 2, child, how) == ENOENT);
        CHECK(spawnChild({"/nonexistent/dir/prog"}, 2, 2, child, how) == ENOENT);
        CHECK(spawnChild({}, 2, 2, child, how) == EINVAL);
        CHECK(child.pid == 0);
        CHECK_FALSE(child.pidfd);
    }
    // Nothing left behind by the failed starts.
    CHECK(::waitpid(-1, nullptr, WNOHANG) == -1);
    CHECK(errno == ECHILD);
}

TEST_CASE("a program in PATH is found, and the arguments reach it", "[spawn]") {
    const auto [output, status] = run({"printf", "%s|", "a b", "", "c"}, ParentDeath::EndsChild);
    CHECK(WIFEXITED(status));
    CHECK(output == "a b||c|");
}

TEST_CASE("a child tied to the daemon ends with it; an untied one runs on", "[spawn]") {
    const int tied = fateOfOrphan(ParentDeath::EndsChild);
    CHECK(WIFSIGNALED(tied));
    CHECK(WTERMSIG(tied) == SIGTERM);
    const int untied = fateOfOrphan(ParentDeath::ChildRunsOn);
    CHECK(WIFSIGNALED(untied));
    CHECK(WTERMSIG(untied) == SIGKILL); // ended by the test, not by its parent's death
}
