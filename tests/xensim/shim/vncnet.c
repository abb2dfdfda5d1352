/* The sim's VNC servers (a stub's dom0 vfb backend: QEMU, started by xensim-dom) listen
 * on DIR/vnc/PORT.sock, not on TCP: several simulated hosts (and the machine's own
 * services) share one network stack, and a fixed port 5900 would be taken by whichever
 * host came first. So a connect() to TCP port PORT, on any address, from a process with
 * the shim (stubdomd) reaches DIR/vnc/PORT.sock when that socket exists, as a connect to a
 * bound TCP port would: the caller's socket is replaced in place by a connected Unix stream
 * socket with the same flags. Any other connect goes straight to the kernel. */
#include "shim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static int sys_connect(int fd, const struct sockaddr* addr, socklen_t len) {
    return (int)syscall(SYS_connect, fd, addr, len);
}

/* The port of a TCP address, or 0. */
static unsigned tcp_port(int fd, const struct sockaddr* addr, socklen_t len) {
    int type = 0;
    socklen_t tlen = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_STREAM)
        return 0;
    if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in))
        return ntohs(((const struct sockaddr_in*)addr)->sin_port);
    if (addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6))
        return ntohs(((const struct sockaddr_in6*)addr)->sin6_port);
    return 0;
}

/* glibc declares connect() with a transparent union for the address (GNU C); the same
 * type here keeps the declarations compatible. */
XSIM_EXPORT int connect(int fd, __CONST_SOCKADDR_ARG target, socklen_t len) {
    const struct sockaddr* addr = target.__sockaddr__;
    const char* dir = getenv("XENSIM_DIR");
    unsigned port = dir && addr ? tcp_port(fd, addr, len) : 0;
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    struct stat st;
    if (!port ||
        snprintf(un.sun_path, sizeof un.sun_path, "%s/vnc/%u.sock", dir, port) >=
            (int)sizeof un.sun_path ||
        stat(un.sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
        return sys_connect(fd, addr, len);
    /* Connected blocking, then given the caller's flags: a non-blocking connect to a Unix
     * socket whose listener has not accepted yet fails with EAGAIN at once (QEMU's backlog is
     * short), where TCP's would be under way (EINPROGRESS) and complete. */
    int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
    int unixfd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (unixfd < 0)
        return -1;
    int rc = sys_connect(unixfd, (const struct sockaddr*)&un, sizeof un);
    if (rc == 0 && (fl & O_NONBLOCK))
        rc = fcntl(unixfd, F_SETFL, O_NONBLOCK);
    if (rc == 0)
        rc = dup3(unixfd, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0 ? -1 : 0;
    int e = errno;
    close(unixfd);
    errno = e;
    return rc;
}
