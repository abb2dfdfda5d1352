#include "consoled.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int xsim_consoled_address(const char* dir, struct sockaddr_un* addr, int* dirfd) {
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    *dirfd = -1;
    if ((size_t)snprintf(addr->sun_path, sizeof addr->sun_path, "%s/%s", dir,
                         XSIM_CONSOLED_SOCKET) < sizeof addr->sun_path)
        return 0;
    /* A host directory deep in a test's temporary tree: reach it through its fd. */
    *dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (*dirfd < 0)
        return -1;
    snprintf(addr->sun_path, sizeof addr->sun_path, "/proc/self/fd/%d/%s", *dirfd,
             XSIM_CONSOLED_SOCKET);
    return 0;
}

int xsim_consoled_request(const char* dir, const char* verb, uint32_t domid) {
    struct sockaddr_un addr;
    int dirfd;
    if (xsim_consoled_address(dir, &addr, &dirfd))
        return -1;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    int rc = fd < 0 ? -1 : 0;
    while (rc == 0 && connect(fd, (struct sockaddr*)&addr, sizeof addr) < 0)
        if (errno != EINTR)
            rc = -1;
    char msg[64];
    int len = snprintf(msg, sizeof msg, "%s %u", verb, domid);
    if (rc == 0 && send(fd, msg, (size_t)len, MSG_NOSIGNAL) != len)
        rc = -1;
    char reply[512];
    ssize_t n = -1;
    while (rc == 0 && (n = recv(fd, reply, sizeof reply - 1, 0)) < 0)
        if (errno != EINTR)
            rc = -1;
    if (rc == 0) {
        reply[n > 0 ? n : 0] = '\0';
        if (strcmp(reply, "ok")) {
            fprintf(stderr, "xensim: xenconsoled: %s %u: %s\n", verb, domid,
                    n > 0 ? reply : "no answer");
            errno = EIO;
            rc = -1;
        }
    }
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (dirfd >= 0)
        close(dirfd);
    errno = e;
    return rc;
}
