#include "procutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

unsigned long long xsim_proc_start(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* comm may hold spaces and parentheses: fields restart after the last ')'. */
    char* p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return 0;
    /* A zombie has finished; treat it as gone. */
    if (p[2] == 'Z' || p[2] == 'X')
        return 0;
    p++;
    /* After ')' come field 3 (state) .. field 22 (starttime): skip 19 fields. */
    for (int field = 3; field < 22; field++) {
        p = strchr(p + 1, ' ');
        if (!p)
            return 0;
    }
    return strtoull(p + 1, NULL, 10);
}

int xsim_proc_signal(pid_t pid, unsigned long long start, int sig) {
    if (pid <= 1 || start == 0 || xsim_proc_start(pid) != start)
        return 0;
    return kill(pid, sig) == 0;
}

pid_t xsim_spawn_detached(char* const argv[], const char* log_path) {
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -1;
    pid_t mid = fork();
    if (mid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    }
    if (mid == 0) {
        /* The middle process only exists so the real child is not ours to reap. */
        close(pipefd[0]);
        pid_t child = fork();
        if (child == 0) {
            setsid();
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, NULL);
            int in = open("/dev/null", O_RDONLY);
            int out = log_path ? open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644)
                               : open("/dev/null", O_WRONLY);
            if (in >= 0)
                dup2(in, 0);
            if (out >= 0) {
                dup2(out, 1);
                dup2(out, 2);
            }
            /* Nothing of the caller's may live on in the child: a stubdomd's bus
             * connection kept open here would outlive stubdomd itself. */
            close_range(3, ~0u, 0);
            execv(argv[0], argv);
            _exit(127);
        }
        ssize_t w = write(pipefd[1], &child, sizeof child);
        _exit(w == (ssize_t)sizeof child ? 0 : 1);
    }
    close(pipefd[1]);
    pid_t child = -1;
    ssize_t r;
    do
        r = read(pipefd[0], &child, sizeof child);
    while (r < 0 && errno == EINTR);
    close(pipefd[0]);
    while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
        ;
    return r == (ssize_t)sizeof child ? child : -1;
}

int xsim_unix_listening(const char* path) {
    FILE* table = fopen("/proc/net/unix", "re");
    if (!table)
        return 0;
    /* "Num RefCount Protocol Flags Type St Inode Path": __SO_ACCEPTCON in Flags. */
    enum { ACCEPTCON = 0x10000 };
    char line[4096];
    int listening = 0;
    while (!listening && fgets(line, sizeof line, table)) {
        unsigned long flags;
        int at = 0;
        if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %n", &flags, &at) != 1 || at == 0)
            continue;
        line[strcspn(line, "\n")] = '\0';
        listening = (flags & ACCEPTCON) && strcmp(line + at, path) == 0;
    }
    fclose(table);
    return listening;
}
