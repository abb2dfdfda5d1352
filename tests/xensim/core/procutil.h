/* Dom0 processes the sim starts on a domain's behalf: started detached (their own
 * session, not our child, so no caller has to reap them) and signalled only while
 * their start time still matches, so a recycled pid is never hit. */
#ifndef XENSIM_PROCUTIL_H
#define XENSIM_PROCUTIL_H

#include <signal.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Start time of pid in clock ticks since boot (/proc/PID/stat field 22), 0 if gone. */
unsigned long long xsim_proc_start(pid_t pid);
/* Signals pid if it is still the process that started at `start`; 1 if signalled. */
int xsim_proc_signal(pid_t pid, unsigned long long start, int sig);
/* Runs argv[0] (a path) in a new session, stdio on /dev/null (or log_path for stdout
 * and stderr), no other descriptor inherited, reparented to init; returns its pid or
 * -1. Safe in threaded callers; a short-lived intermediate child is reaped here (a
 * caller reaping with waitpid(-1) may see it exit first, which does no harm). */
pid_t xsim_spawn_detached(char* const argv[], const char* log_path);
/* 1 if a unix socket bound at `path` is listening (/proc/net/unix), else 0. A server
 * binds before it listens: in between, its path exists and a connect is refused. */
int xsim_unix_listening(const char* path);

#ifdef __cplusplus
}
#endif

#endif
