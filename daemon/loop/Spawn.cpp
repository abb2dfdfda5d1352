#include "loop/Spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
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

int spawnChild(const std::vector<std::string>& argv, int stdoutFd, int stderrFd,
               SpawnedChild& child) {
    if (argv.empty())
        return EINVAL;
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

    std::vector<std::string> args = argv;
    std::vector<char*> pointers;
    for (auto& arg : args)
        pointers.push_back(arg.data());
    pointers.push_back(nullptr);

    pid_t pid;
    if (int rc = posix_spawnp(&pid, args.front().c_str(), actions.get(), attr.get(),
                              pointers.data(), environ);
        rc != 0)
        return rc;

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
