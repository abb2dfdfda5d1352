/* libxenctrl entry points, answered from the simulated host's domain table. */
#define __XEN_TOOLS__ 1
#include <xenctrl.h>

#include "../core/domops.h"
#include "../core/domtable.h"
#include "shim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct xc_interface_core {
    char dir[4096];
    struct xsim_table table; /* mapped for the handle's life: reads take no syscall */
};

XSIM_EXPORT xc_interface* xc_interface_open(xentoollog_logger* logger,
                                            xentoollog_logger* dombuild_logger,
                                            unsigned open_flags) {
    (void)logger;
    (void)dombuild_logger;
    (void)open_flags;
    const char* dir = xsim_shim_dir();
    if (!dir) {
        errno = ENOENT;
        return NULL;
    }
    xc_interface* xch = calloc(1, sizeof *xch);
    if (!xch)
        return NULL;
    /* Like opening /dev/xen/privcmd: fail now, not at the first hypercall. */
    if (xsim_table_open(&xch->table, dir, 0)) {
        int e = errno;
        fprintf(stderr, "xensim-shim: no simulated host at %s: %s\n", dir, strerror(e));
        free(xch);
        errno = e;
        return NULL;
    }
    snprintf(xch->dir, sizeof xch->dir, "%s", dir);
    return xch;
}

XSIM_EXPORT int xc_interface_close(xc_interface* xch) {
    if (xch)
        xsim_table_close(&xch->table);
    free(xch);
    return 0;
}

static uint32_t dominf_flags(const struct xsim_dom* d) {
    uint32_t f = 0;
    if (d->flags & XSIM_F_HVM)
        f |= XEN_DOMINF_hvm_guest;
    if (d->flags & XSIM_F_DYING)
        f |= XEN_DOMINF_dying;
    if (d->flags & XSIM_F_PAUSED)
        f |= XEN_DOMINF_paused;
    if (d->flags & XSIM_F_SHUTDOWN)
        f |= XEN_DOMINF_shutdown |
             ((d->shutdown_reason & XEN_DOMINF_shutdownmask) << XEN_DOMINF_shutdownshift);
    /* Dom0 runs the caller; an idle guest is blocked. */
    if (!(d->flags & (XSIM_F_PAUSED | XSIM_F_SHUTDOWN | XSIM_F_DYING)))
        f |= d->domid == 0 ? XEN_DOMINF_running : XEN_DOMINF_blocked;
    return f;
}

static void fill_domaininfo(const struct xsim_dom* d, xc_domaininfo_t* out) {
    memset(out, 0, sizeof *out);
    out->domain = (domid_t)d->domid;
    out->flags = dominf_flags(d);
    out->tot_pages = d->mem_kib / 4;
    out->cpu_time = xsim_dom_cpu_ns(d);
    out->max_pages = d->maxmem_kib / 4;
    out->nr_online_vcpus = d->vcpus;
    out->max_vcpu_id = d->vcpus ? d->vcpus - 1 : 0;
    memcpy(out->handle, d->handle, sizeof out->handle);
}

/* The domains with domid >= first, in order, at most max: into out, a chunk at a time. */
typedef void (*dom_sink)(const struct xsim_dom* d, void* out, unsigned i);
static unsigned list_domains(xc_interface* xch, uint32_t first, unsigned max, dom_sink sink,
                             void* out) {
    struct xsim_dom chunk[16];
    unsigned n = 0;
    while (n < max && first < XSIM_DOMID_LIMIT) {
        size_t want = max - n < 16 ? max - n : 16;
        size_t got = xsim_table_list(&xch->table, first, chunk, want);
        for (size_t i = 0; i < got; i++)
            sink(&chunk[i], out, n++);
        if (got < want)
            break;
        first = chunk[got - 1].domid + 1;
    }
    return n;
}

static void to_domaininfo(const struct xsim_dom* d, void* out, unsigned i) {
    fill_domaininfo(d, &((xc_domaininfo_t*)out)[i]);
}

XSIM_EXPORT int xc_domain_getinfolist(xc_interface* xch, uint32_t first_domain,
                                      unsigned int max_domains, xc_domaininfo_t* info) {
    if (!xch) {
        errno = EINVAL;
        return -1;
    }
    return (int)list_domains(xch, first_domain, max_domains, to_domaininfo, info);
}

static void to_dominfo(const struct xsim_dom* d, void* out, unsigned i) {
    xc_dominfo_t* o = &((xc_dominfo_t*)out)[i];
    memset(o, 0, sizeof *o);
    uint32_t f = dominf_flags(d);
    o->domid = d->domid;
    o->dying = !!(f & XEN_DOMINF_dying);
    o->shutdown = !!(f & XEN_DOMINF_shutdown);
    o->paused = !!(f & XEN_DOMINF_paused);
    o->blocked = !!(f & XEN_DOMINF_blocked);
    o->running = !!(f & XEN_DOMINF_running);
    o->hvm = !!(f & XEN_DOMINF_hvm_guest);
    o->shutdown_reason = (f >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
    /* libxenctrl reports a crash as crashed, not shutdown. */
    if (o->shutdown && o->shutdown_reason == SHUTDOWN_crash) {
        o->shutdown = 0;
        o->crashed = 1;
    }
    o->nr_pages = d->mem_kib / 4;
    o->max_memkb = d->maxmem_kib;
    o->nr_online_vcpus = d->vcpus;
    o->max_vcpu_id = d->vcpus ? d->vcpus - 1 : 0;
    memcpy(o->handle, d->handle, sizeof o->handle);
}

XSIM_EXPORT int xc_domain_getinfo(xc_interface* xch, uint32_t first_domid, unsigned int max_doms,
                                  xc_dominfo_t* info) {
    if (!xch) {
        errno = EINVAL;
        return -1;
    }
    unsigned n = list_domains(xch, first_domid, max_doms, to_dominfo, info);
    /* Xen answers ESRCH when no domain at or above first_domid exists. */
    if (n == 0) {
        errno = ESRCH;
        return -1;
    }
    return (int)n;
}

XSIM_EXPORT int xc_domain_set_target(xc_interface* xch, uint32_t domid, uint32_t target) {
    return xch ? xsim_dom_set_target(xch->dir, domid, target) : -1;
}

XSIM_EXPORT int xc_domain_pause(xc_interface* xch, uint32_t domid) {
    return xch ? xsim_dom_pause(xch->dir, domid) : -1;
}

XSIM_EXPORT int xc_domain_unpause(xc_interface* xch, uint32_t domid) {
    return xch ? xsim_dom_unpause(xch->dir, domid) : -1;
}

XSIM_EXPORT int xc_domain_destroy(xc_interface* xch, uint32_t domid) {
    return xch ? xsim_dom_destroy(xch->dir, domid) : -1;
}

XSIM_EXPORT int xc_domain_shutdown(xc_interface* xch, uint32_t domid, int reason) {
    if (!xch)
        return -1;
    if (reason < 0 || reason > SHUTDOWN_MAX) {
        errno = EINVAL;
        return -1;
    }
    return xsim_dom_shutdown(xch->dir, domid, (unsigned)reason);
}

XSIM_EXPORT int xc_physinfo(xc_interface* xch, xc_physinfo_t* info) {
    if (!xch) {
        errno = EINVAL;
        return -1;
    }
    struct xsim_host_info host;
    xsim_table_info(&xch->table, &host);
    memset(info, 0, sizeof *info);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    info->nr_cpus = cpus > 0 ? (uint32_t)cpus : 1;
    info->max_cpu_id = info->nr_cpus - 1;
    info->threads_per_core = 1;
    info->cores_per_socket = info->nr_cpus;
    info->nr_nodes = 1;
    info->cpu_khz = 2000000;
    info->capabilities = XEN_SYSCTL_PHYSCAP_hvm | XEN_SYSCTL_PHYSCAP_pv;
    info->total_pages = host.total_kib / 4;
    info->free_pages = xsim_free_kib(xch->dir, &xch->table) / 4;
    info->max_mfn = info->total_pages;
    return 0;
}

XSIM_EXPORT int xc_version(xc_interface* xch, int cmd, void* arg) {
    if (!xch) {
        errno = EINVAL;
        return -1;
    }
    switch (cmd) {
    case XENVER_version:
        return (4 << 16) | 17;
    case XENVER_extraversion:
        snprintf(arg, sizeof(xen_extraversion_t), ".0-xensim");
        return 0;
    case XENVER_capabilities:
        snprintf(arg, sizeof(xen_capabilities_info_t),
                 "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64");
        return 0;
    case XENVER_changeset:
        snprintf(arg, sizeof(xen_changeset_info_t), "xensim");
        return 0;
    default:
        errno = ENOSYS;
        return -1;
    }
}
