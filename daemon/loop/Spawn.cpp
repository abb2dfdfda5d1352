#include "loop/Spawn.hpp"

#include "host/WriteAll.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace stubdomd {

namespace {

// Through syscall(): glibc 2.36's <sys/pidfd.h> lacks C linkage for C++ callers.
int pidfdOpen(pid_t pid) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

class SpawnActions {
public:
    SpawnActions() { posix_spawn_file_actions_init(&actions_); }
    ~SpawnActions() { posix_spawn_file_actions_destroy(&actions_); }
    SpawnActions(const SpawnActions&) = delete;
    SpawnActions& operator=(const SpawnActions&) = delete;
    posix_spawn_file_actions_t* get() { return &actions_; }

private:
    posix_spawn_file_actions_t actions_;
};

class SpawnAttr {
public:
    SpawnAttr() { posix_spawnattr_init(&attr_); }
    ~SpawnAttr() { posix_spawnattr_destroy(&attr_); }
    SpawnAttr(const SpawnAttr&) = delete;
    SpawnAttr& operator=(const SpawnAttr&) = delete;
    posix_spawnattr_t* get() { return &attr_; }

private:
    posix_spawnattr_t attr_;
};

} // namespace

namespace {

// argv as execve wants it; built before any fork, since a forked child of a process with
// threads (libxenstore's reader) may only make system calls.
class CommandLine {
public:
    explicit CommandLine(const std::vector<std::string>& argv) : args_(argv) {
        for (auto& arg : args_)
            pointers_.push_back(arg.data());
        pointers_.push_back(nullptr);
    }
    const std::string& program() const { return args_.front(); }
    char* const* argv() { return pointers_.data(); }

    // Where execvp would look for the program, in order.
    std::vector<std::string> candidates() const {
        if (program().find('/') != std::string::npos)
            return {program()};
        const char* path = std::getenv("PATH");
        std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
        std::vector<std::string> found;
        std::size_t start = 0;
        for (;;) {
            const std::size_t end = dirs.find(':', start);
            std::string dir = dirs.substr(start, end == std::string::npos ? end : end - start);
            found.push_back((dir.empty() ? std::string(".") : dir) + "/" + program());
            if (end == std::string::npos)
                break;
            start = end + 1;
        }
        return found;
    }

private:
    std::vector<std::string> args_;
    std::vector<char*> pointers_;
};

// Opens the child's pidfd; on failure kills and reaps it and returns the errno.
int takeChild(pid_t pid, SpawnedChild& child) {
    UniqueFd pidfd(pidfdOpen(pid));
    if (!pidfd) {
        int err = errno;
        ::kill(pid, SIGKILL);
        while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        return err;
    }
    child.pid = pid;
    child.pidfd = std::move(pidfd);
    return 0;
}

int spawnWithPosixSpawn(CommandLine& command, int stdoutFd, int stderrFd, SpawnedChild& child) {
    SpawnActions actions;
    posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(actions.get(), stdoutFd, 1);
    posix_spawn_file_actions_adddup2(actions.get(), stderrFd, 2);
    // CLOEXEC is not guaranteed for fds opened by libraries (libxenstore, sd-bus).
    posix_spawn_file_actions_addclosefrom_np(actions.get(), 3);

    SpawnAttr attr;
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    posix_spawnattr_setsigmask(attr.get(), &empty);
    posix_spawnattr_setsigdefault(attr.get(), &all);
    posix_spawnattr_setflags(attr.get(), POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    pid_t pid;
    if (int rc = posix_spawnp(&pid, command.program().c_str(), actions.get(), attr.get(),
                              command.argv(), environ);
        rc != 0)
        return rc;
    return takeChild(pid, child);
}

// Tells the daemon why the child could not run its program, and ends the child.
[[noreturn]] void failExec(int errorFd, int err) {
    writeAll(errorFd, &err, sizeof err);
    ::_exit(127);
}

// The forked child's side of spawnTiedToDaemon: system calls only, then execve.
[[noreturn]] void becomeTiedChild(CommandLine& command, const std::vector<std::string>& candidates,
                                  pid_t daemon, int stdoutFd, int stderrFd, int errorFd) {
    // The signal the kernel sends when the daemon ends; set before the check, so a
    // daemon gone between fork and here is seen by one or the other.
    if (::prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
        failExec(errorFd, errno);
    if (::getppid() != daemon)
        ::_exit(127);
    struct sigaction defaults {};
    defaults.sa_handler = SIG_DFL;
    for (int signo = 1; signo < NSIG; ++signo)
        ::sigaction(signo, &defaults, nullptr); // SIGKILL, SIGSTOP: EINVAL, as they are
    sigset_t empty;
    sigemptyset(&empty);
    ::sigprocmask(SIG_SETMASK, &empty, nullptr);

    const int devNull = ::open("/dev/null", O_RDONLY);
    if (devNull < 0 || ::dup2(devNull, 0) < 0 || ::dup2(stdoutFd, 1) < 0 || ::dup2(stderrFd, 2) < 0)
        failExec(errorFd, errno);
    // Every other fd but the one that reports a failed exec (close-on-exec itself).
    if (errorFd > 3)
        ::close_range(3, static_cast<unsigned>(errorFd) - 1, 0);
    ::close_range(static_cast<unsigned>(errorFd) + 1, ~0U, 0);

    int err = ENOENT;
    for (const auto& candidate : candidates) {
        ::execve(candidate.c_str(), command.argv(), environ);
        // As execvp: a directory that lacks it, or where it may not be run, is skipped.
        if (errno == EACCES)
            err = EACCES;
        else if (errno != ENOENT && errno != ENOTDIR)
            failExec(errorFd, errno);
    }
    failExec(errorFd, err);
}

int spawnTiedToDaemon(CommandLine& command, int stdoutFd, int stderrFd, SpawnedChild& child) {
    const std::vector<std::string> candidates = command.candidates();
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0)
        return errno;
    UniqueFd errorRead(fds[0]), errorWrite(fds[1]);
    const pid_t daemon = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0)
        return errno;
    if (pid == 0)
        becomeTiedChild(command, candidates, daemon, stdoutFd, stderrFd, errorWrite.get());
    errorWrite.reset();
    // EOF: the exec closed the pipe; an errno: the exec failed and the child exits.
    int err = 0;
    ssize_t n;
    while ((n = ::read(errorRead.get(), &err, sizeof err)) < 0 && errno == EINTR) {
    }
    if (n == static_cast<ssize_t>(sizeof err)) {
        while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        return err;
    }
    return takeChild(pid, child);
}

} // namespace

int spawnChild(const std::vector<std::string>& argv, int stdoutFd, int stderrFd,
               SpawnedChild& child, ParentDeath onDaemonDeath) {
    if (argv.empty())
        return EINVAL;
    CommandLine command(argv);
    return onDaemonDeath == ParentDeath::EndsChild
               ? spawnTiedToDaemon(command, stdoutFd, stderrFd, child)
               : spawnWithPosixSpawn(command, stdoutFd, stderrFd, child);
}

void pidfdSignal(int pidfd, int signo) {
    ::syscall(SYS_pidfd_send_signal, pidfd, signo, nullptr, 0);
}

void reapBlocking(int pidfd) {
    siginfo_t info{};
    while (waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED) < 0 && errno == EINTR) {
    }
}

bool reapIfExited(int pidfd, std::string& status, int& exitStatus) {
    siginfo_t info{};
    if (waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG) < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return false;
        // ECHILD: reaped elsewhere or never ours; report it rather than watch a pidfd
        // that will never settle.
        status = std::string("lost (waitid: ") + std::strerror(errno) + ")";
        exitStatus = 128 + SIGKILL;
        return true;
    }
    if (info.si_pid == 0)
        return false;
    if (info.si_code == CLD_EXITED) {
        status = "exited with status " + std::to_string(info.si_status);
        exitStatus = info.si_status;
    } else {
        status = "killed by signal " + std::to_string(info.si_status);
        exitStatus = 128 + info.si_status;
    }
    return true;
}

} // namespace stubdomd
