/* libxenevtchn entry points. The only event a simulated host delivers is
 * VIRQ_DOM_EXC: the handle's fd is the host's VIRQ FIFO, one byte per VIRQ. Interdomain
 * channels (xenstored binds one per introduced domain) get port numbers but never fire:
 * no simulated guest writes to its xenstore ring. */
#include <xenevtchn.h>

#include "../core/virq.h"
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

struct xenevtchn_handle {
    int fd;
    int owns_fd;
    evtchn_port_t next_port;
    evtchn_port_t virq_port;
};

static xenevtchn_handle* handle_on(int fd, int owns) {
    xenevtchn_handle* h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->fd = fd;
    h->owns_fd = owns;
    h->next_port = 1;
    return h;
}

XSIM_EXPORT xenevtchn_handle* xenevtchn_open(struct xentoollog_logger* logger,
                                             unsigned open_flags) {
    (void)logger;
    const char* dir = xsim_shim_dir();
    if (!dir) {
        errno = ENOENT;
        return NULL;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, XSIM_VIRQ_FIFO);
    if (mkfifo(path, 0600) < 0 && errno != EEXIST)
        return NULL;
    /* O_RDWR keeps the FIFO open for writing too, so it never reads as EOF. */
    int flags = O_RDWR | O_NONBLOCK;
    if (!(open_flags & XENEVTCHN_NO_CLOEXEC))
        flags |= O_CLOEXEC;
    int fd = open(path, flags);
    if (fd < 0)
        return NULL;
    xenevtchn_handle* h = handle_on(fd, 1);
    if (!h)
        close(fd);
    return h;
}

XSIM_EXPORT xenevtchn_handle* xenevtchn_fdopen(struct xentoollog_logger* logger, int fd,
                                               unsigned open_flags) {
    (void)logger;
    (void)open_flags;
    return handle_on(fd, 1);
}

XSIM_EXPORT int xenevtchn_close(xenevtchn_handle* xce) {
    if (!xce)
        return 0;
    if (xce->owns_fd)
        close(xce->fd);
    free(xce);
    return 0;
}

XSIM_EXPORT int xenevtchn_fd(xenevtchn_handle* xce) {
    return xce->fd;
}

XSIM_EXPORT int xenevtchn_notify(xenevtchn_handle* xce, evtchn_port_t port) {
    (void)xce;
    (void)port;
    return 0;
}

XSIM_EXPORT xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle* xce,
                                                                 uint32_t domid,
                                                                 evtchn_port_t remote_port) {
    (void)domid;
    (void)remote_port;
    return (xenevtchn_port_or_error_t)xce->next_port++;
}

XSIM_EXPORT xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle* xce,
                                                          unsigned int virq) {
    (void)virq;
    xce->virq_port = xce->next_port++;
    return (xenevtchn_port_or_error_t)xce->virq_port;
}

XSIM_EXPORT int xenevtchn_unbind(xenevtchn_handle* xce, evtchn_port_t port) {
    (void)xce;
    (void)port;
    return 0;
}

XSIM_EXPORT xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle* xce) {
    char buf[64];
    /* Drain every queued VIRQ: one re-check of the domains covers them all. A read that
     * finds nothing still reports the VIRQ, since xenstored treats -1 as fatal and a
     * spurious re-check is harmless. */
    while (read(xce->fd, buf, sizeof buf) == (ssize_t)sizeof buf)
        ;
    return (xenevtchn_port_or_error_t)xce->virq_port;
}

XSIM_EXPORT int xenevtchn_unmask(xenevtchn_handle* xce, evtchn_port_t port) {
    (void)xce;
    (void)port;
    return 0;
}
