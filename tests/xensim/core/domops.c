#include "domops.h"

#include "consoled.h"
#include "faults.h"
#include "procutil.h"
#include "virq.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef XSIM_DOM_HELPER
#error "XSIM_DOM_HELPER (path of xensim-dom) must be defined by the build"
#endif

typedef int (*dom_edit)(struct xsim_dom* d, void* arg);

/* Runs one edit on one domain under the lock and commits it. */
static int edit_domain(const char* dir, uint32_t domid, dom_edit fn, void* arg) {
    struct xsim_table t;
    if (xsim_table_open(&t, dir, 1))
        return -1;
    struct xsim_dom* d = xsim_table_edit(&t, domid);
    int rc = -1;
    if (d && (rc = fn(d, arg)) == 0)
        rc = xsim_table_commit(&t);
    int e = errno;
    xsim_table_close(&t);
    errno = e;
    return rc;
}

static int not_dom0(const struct xsim_dom* d) {
    if (d->domid == 0) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

/* The vCPU clock (domtable.h): it runs while the domain is neither paused nor shut down. */
static void stop_vcpus(struct xsim_dom* d) {
    d->cpu_ns = xsim_dom_cpu_ns(d);
    d->running_since_ns = 0;
}

static void run_vcpus(struct xsim_dom* d) {
    if (d->running_since_ns || (d->flags & (XSIM_F_PAUSED | XSIM_F_SHUTDOWN | XSIM_F_DYING)))
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    d->running_since_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

static int do_pause(struct xsim_dom* d, void* arg) {
    (void)arg;
    if (not_dom0(d))
        return -1;
    stop_vcpus(d);
    d->flags |= XSIM_F_PAUSED;
    return 0;
}

/* DIR/log/pause.log, one "pause D" / "unpause D" line per call that took effect, in the
 * order the table saw them: Xen keeps no such record, but a test of who is paused first
 * needs one, as xenstored's --trace is for requests. One write(2) with O_APPEND a line. */
static void log_pause(const char* dir, const char* what, uint32_t domid) {
    char path[4096], line[64];
    snprintf(path, sizeof path, "%s/log/pause.log", dir);
    int n = snprintf(line, sizeof line, "%s %u\n", what, domid);
    FILE* f = fopen(path, "a");
    if (!f)
        return;
    fwrite(line, 1, (size_t)n, f);
    fclose(f);
}

int xsim_dom_pause(const char* dir, uint32_t domid) {
    if (edit_domain(dir, domid, do_pause, NULL))
        return -1;
    log_pause(dir, "pause", domid);
    return 0;
}

static int do_unpause(struct xsim_dom* d, void* arg) {
    int* boot = arg;
    if (not_dom0(d))
        return -1;
    d->flags &= ~XSIM_F_PAUSED;
    run_vcpus(d);
    *boot = !(d->flags & (XSIM_F_HVM | XSIM_F_BOOTED)) && d->target != XSIM_NO_TARGET;
    if (*boot)
        d->flags |= XSIM_F_BOOTED;
    return 0;
}

static int do_attach_boot(struct xsim_dom* d, void* arg) {
    return xsim_dom_add_proc(d, *(pid_t*)arg, 'b');
}

int xsim_dom_unpause(const char* dir, uint32_t domid) {
    int boot = 0;
    if (edit_domain(dir, domid, do_unpause, &boot))
        return -1;
    log_pause(dir, "unpause", domid);
    if (!boot)
        return 0;
    /* `xensim-dom DIR DOMID`, detached, its output in DIR/log/dom-DOMID.log, recorded as
     * role 'b' so destroy and `xensim down` can end it. A helper that has already
     * finished (zero boot delay) or a domain destroyed meanwhile needs no tracking. */
    char domid_s[16], log[4096];
    snprintf(domid_s, sizeof domid_s, "%u", domid);
    snprintf(log, sizeof log, "%s/log/dom-%u.log", dir, domid);
    char* argv[] = {(char*)XSIM_DOM_HELPER, (char*)dir, domid_s, NULL};
    pid_t pid = xsim_spawn_detached(argv, log);
    if (pid < 0)
        return -1;
    edit_domain(dir, domid, do_attach_boot, &pid);
    return 0;
}

static int do_attach_vnc(struct xsim_dom* d, void* arg) {
    return xsim_dom_add_proc(d, *(pid_t*)arg, 'v');
}

int xsim_dom_attach_vnc(const char* dir, uint32_t domid, pid_t pid) {
    return edit_domain(dir, domid, do_attach_vnc, &pid);
}

int xsim_dom_start_console(const char* dir, uint32_t domid) {
    return xsim_consoled_request(dir, "open", domid);
}

static int do_shutdown(struct xsim_dom* d, void* arg) {
    if (not_dom0(d))
        return -1;
    if (!(d->flags & XSIM_F_SHUTDOWN)) {
        stop_vcpus(d);
        d->flags |= XSIM_F_SHUTDOWN;
        d->shutdown_reason = *(unsigned*)arg;
    }
    return 0;
}

int xsim_dom_shutdown(const char* dir, uint32_t domid, unsigned reason) {
    if (edit_domain(dir, domid, do_shutdown, &reason))
        return -1;
    return xsim_raise_virq(dir);
}

int xsim_dom_destroy(const char* dir, uint32_t domid) {
    struct xsim_table t;
    if (xsim_table_open(&t, dir, 1))
        return -1;
    struct xsim_dom d;
    int found = xsim_table_get(&t, domid, &d);
    if (!found || domid == 0) {
        xsim_table_close(&t);
        errno = found ? EINVAL : ESRCH;
        return -1;
    }
    /* The domain's own simulated life ends with it, and so does its vfb backend's VNC
     * server (libxl ends a stub's dom0 QEMU with it); a device model in dom0 does not. */
    for (int i = 0; i < d.nprocs; i++)
        if (d.procs[i].role == 'b' || d.procs[i].role == 'v')
            xsim_proc_signal(d.procs[i].pid, d.procs[i].start, SIGKILL);
    int rc = xsim_table_remove(&t, domid) ? -1 : xsim_table_commit(&t);
    int e = errno;
    xsim_table_close(&t);
    if (rc) {
        errno = e;
        return -1;
    }
    /* xenconsoled lets go of a destroyed domain's pty (a domain without a console, or a
     * host whose xenconsoled is gone, has nothing to let go of). */
    xsim_consoled_request(dir, "close", domid);
    return xsim_raise_virq(dir);
}

static int do_set_target(struct xsim_dom* d, void* arg) {
    if (not_dom0(d))
        return -1;
    d->target = *(uint32_t*)arg;
    return 0;
}

int xsim_dom_set_target(const char* dir, uint32_t domid, uint32_t target) {
    struct xsim_table t;
    if (xsim_table_open(&t, dir, 0))
        return -1;
    struct xsim_dom d;
    int exists = xsim_table_get(&t, target, &d);
    xsim_table_close(&t);
    if (!exists) {
        errno = ESRCH;
        return -1;
    }
    return edit_domain(dir, domid, do_set_target, &target);
}

uint64_t xsim_free_kib(const char* dir, struct xsim_table* t) {
    long long forced = xsim_fault_number(dir, "free-memory-kib", NULL, -1);
    if (forced >= 0)
        return (uint64_t)forced;
    struct xsim_host_info info;
    xsim_table_info(t, &info);
    return info.used_kib >= info.total_kib ? 0 : info.total_kib - info.used_kib;
}
