// Starting a child the way every child of the daemon is started (short xl commands
// and long-running helpers alike), and the pidfd calls that watch and end it.
#pragma once

#include "loop/UniqueFd.hpp"

#include <sys/types.h>

#include <string>
#include <vector>

namespace stubdomd {

struct SpawnedChild {
    pid_t pid = 0;
    UniqueFd pidfd; // readable once the child has exited; waitid(P_PIDFD) reaps it
};

// What becomes of a child when the daemon ends without stopping it (SIGKILL, a crash).
enum class ParentDeath {
    // It runs on: a toolstack command (xl create) left half done would leave a domain
    // half built.
    ChildRunsOn,
    // It gets SIGTERM (PR_SET_PDEATHSIG): a long-running child the daemon owns (a helper,
    // a QMP proxy), which the next run starts again. Under systemd KillMode=mixed ends
    // them anyway; this does the same for a daemon run without it.
    EndsChild,
};

// Runs argv (argv[0] searched in PATH when it has no '/') with stdin from /dev/null,
// stdout and stderr on the given fds, no other fd, an empty signal mask and default
// signal dispositions (the loop blocks the signals it takes through its signalfd, and
// a child must not inherit that). Returns 0 and fills `child`, or the errno that
// stopped it (ENOENT for a missing program: exec failures are reported too).
int spawnChild(const std::vector<std::string>& argv, int stdoutFd, int stderrFd,
               SpawnedChild& child, ParentDeath onDaemonDeath = ParentDeath::ChildRunsOn);

// Signals through the pidfd, so a recycled pid can never be hit.
void pidfdSignal(int pidfd, int signo);

// Waits for the child to exit and reaps it. Only for teardown: it blocks.
void reapBlocking(int pidfd);

// Reaps the child if it has exited. Returns false while it still runs; on true,
// `status` is "exited with status N" or "killed by signal N" and `exitStatus` is N or
// 128+N (a shell's convention).
bool reapIfExited(int pidfd, std::string& status, int& exitStatus);

} // namespace stubdomd
