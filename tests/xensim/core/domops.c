#include "domops.h"

#include "faults.h"
#include "procutil.h"
#include "virq.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#ifndef XSIM_DOM_HELPER
#error "XSIM_DOM_HELPER (path of xensim-dom) must be defined by the build"
#endif
#ifndef XSIM_CONSOLE_HELPER
#error "XSIM_CONSOLE_HELPER (path of xensim-console) must be defined by the build"
#endif

typedef int (*dom_edit)(struct xsim_dom* d, void* arg);

/* Runs one edit on one domain under the exclusive lock and commits it. */
static int edit_domain(const char* dir, uint32_t domid, dom_edit fn, void* arg) {
    struct xsim_table t;
    if (xsim_table_open(&t, dir, 1))
        return -1;
    struct xsim_dom* d = xsim_table_find(&t, domid);
    int rc = -1;
    if (!d)
        errno = ESRCH;
    else if ((rc = fn(d, arg)) == 0)
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

static int do_pause(struct xsim_dom* d, void* arg) {
    (void)arg;
    if (not_dom0(d))
        return -1;
    d->flags |= XSIM_F_PAUSED;
    return 0;
}

int xsim_dom_pause(const char* dir, uint32_t domid) {
    return edit_domain(dir, domid, do_pause, NULL);
}

static int do_unpause(struct xsim_dom* d, void* arg) {
    int* boot = arg;
    if (not_dom0(d))
        return -1;
    d->flags &= ~XSIM_F_PAUSED;
    *boot = !(d->flags & (XSIM_F_HVM | XSIM_F_BOOTED)) && d->target != XSIM_NO_TARGET;
    if (*boot)
        d->flags |= XSIM_F_BOOTED;
    return 0;
}

struct helper_proc {
    pid_t pid;
    char role;
};

static int do_attach_helper(struct xsim_dom* d, void* arg) {
    const struct helper_proc* p = arg;
    return xsim_dom_add_proc(d, p->pid, p->role);
}

/* Starts `helper DIR DOMID` detached, its output in DIR/log/<log>-DOMID.log, and records
 * it in the domain's procs as `role` so destroy and `xensim down` can end it. -1 if it
 * could not start; 1 if it started but the domain is gone (or the table is full). */
static int spawn_helper(const char* helper, const char* log_name, char role, const char* dir,
                        uint32_t domid) {
    char domid_s[16];
    snprintf(domid_s, sizeof domid_s, "%u", domid);
    char log[4096];
    snprintf(log, sizeof log, "%s/log/%s-%u.log", dir, log_name, domid);
    char* argv[] = {(char*)helper, (char*)dir, domid_s, NULL};
    struct helper_proc p = {xsim_spawn_detached(argv, log), role};
    if (p.pid < 0)
        return -1;
    return edit_domain(dir, domid, do_attach_helper, &p) ? 1 : 0;
}

int xsim_dom_unpause(const char* dir, uint32_t domid) {
    int boot = 0;
    if (edit_domain(dir, domid, do_unpause, &boot))
        return -1;
    if (!boot)
        return 0;
    /* A helper that has already finished (zero boot delay) or a domain destroyed
     * meanwhile needs no tracking. */
    return spawn_helper(XSIM_DOM_HELPER, "dom", 'b', dir, domid) < 0 ? -1 : 0;
}

int xsim_dom_start_console(const char* dir, uint32_t domid) {
    return spawn_helper(XSIM_CONSOLE_HELPER, "console", 'c', dir, domid) ? -1 : 0;
}

static int do_shutdown(struct xsim_dom* d, void* arg) {
    if (not_dom0(d))
        return -1;
    if (!(d->flags & XSIM_F_SHUTDOWN)) {
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
    struct xsim_dom* d = xsim_table_find(&t, domid);
    if (!d || d->domid == 0) {
        xsim_table_close(&t);
        errno = d ? EINVAL : ESRCH;
        return -1;
    }
    /* The domain's own simulated life and its console (xenconsoled lets go of a destroyed
     * domain's pty) end with it; a device model in dom0 does not. */
    for (int i = 0; i < d->nprocs; i++)
        if (d->procs[i].role == 'b' || d->procs[i].role == 'c')
            xsim_proc_signal(d->procs[i].pid, d->procs[i].start, SIGKILL);
    xsim_table_remove(&t, domid);
    int rc = xsim_table_commit(&t);
    char ring[4096];
    snprintf(ring, sizeof ring, "%s/console/%u", dir, domid);
    unlink(ring);
    int e = errno;
    xsim_table_close(&t);
    if (rc) {
        errno = e;
        return -1;
    }
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
    int exists = xsim_table_find(&t, target) != NULL;
    xsim_table_close(&t);
    if (!exists) {
        errno = ESRCH;
        return -1;
    }
    return edit_domain(dir, domid, do_set_target, &target);
}

uint64_t xsim_free_kib(const char* dir, const struct xsim_table* t) {
    long long forced = xsim_fault_number(dir, "free-memory-kib", NULL, -1);
    if (forced >= 0)
        return (uint64_t)forced;
    uint64_t used = xsim_table_used_kib(t);
    return used >= t->total_kib ? 0 : t->total_kib - used;
}
