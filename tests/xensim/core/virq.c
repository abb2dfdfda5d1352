#include "virq.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int xsim_raise_virq(const char* dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, XSIM_VIRQ_FIFO);
    /* Non-blocking: ENXIO means no reader (no xenstored), which a real VIRQ tolerates. */
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errno == ENXIO ? 0 : -1;
    ssize_t w;
    do
        w = write(fd, "v", 1);
    while (w < 0 && errno == EINTR);
    int e = errno;
    close(fd);
    errno = e;
    /* A full pipe already holds pending VIRQs; xenstored re-checks everything anyway. */
    return (w == 1 || (w < 0 && errno == EAGAIN)) ? 0 : -1;
}
