/* xc-probe: a libxenctrl client, linked against the real libxenctrl and run with the
 * shim preloaded, as stubdomd is. It proves the shim answers real callers and gives the
 * xensim script and tests the hypervisor calls stubdomd makes.
 *   xc-probe list                       xc_domain_getinfolist from 0
 *   xc-probe getinfo FIRST MAX          xc_domain_getinfo (what xenstored asks)
 *   xc-probe physinfo                   total/free KiB
 *   xc-probe version                    xc_version
 *   xc-probe set-target DOMID TARGET | pause DOMID | unpause DOMID | destroy DOMID
 *   xc-probe shutdown DOMID REASON      (REASON: poweroff reboot suspend crash watchdog)
 *   xc-probe walk ROUNDS                xenstored's walk on a VIRQ, ROUNDS times: one
 *                                       xc_domain_getinfo(D, 1) per domain; prints the
 *                                       calls and the CPU time per call (for benchmarks:
 *                                       CPU time, which a busy machine does not stretch)
 */
#include <xenctrl.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int usage(void) {
    fprintf(stderr, "usage: xc-probe list | getinfo FIRST MAX | physinfo | version |\n"
                    "       set-target DOMID TARGET | pause DOMID | unpause DOMID |\n"
                    "       destroy DOMID | shutdown DOMID REASON | walk ROUNDS\n");
    return 2;
}

static int reason_code(const char* s) {
    static const char* names[] = {"poweroff", "reboot", "suspend", "crash", "watchdog"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, names[i]))
            return i;
    return atoi(s);
}

static int report(int rc, const char* what) {
    if (rc < 0) {
        fprintf(stderr, "xc-probe: %s: %s\n", what, strerror(errno));
        return 1;
    }
    return 0;
}

/* What xenstored's check of its domains costs the hypervisor: one call per domain. */
static int walk(xc_interface* xch, int rounds) {
    struct timespec a, b;
    unsigned long calls = 0;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    for (int r = 0; r < rounds; r++) {
        xc_dominfo_t info;
        for (uint32_t d = 0; xc_domain_getinfo(xch, d, 1, &info) == 1; d = info.domid + 1)
            calls++;
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
    printf("calls=%lu ns_per_call=%.0f\n", calls, calls ? ns / (double)calls : 0.0);
    return 0;
}

static void print_list(xc_interface* xch) {
    xc_domaininfo_t info[256];
    uint32_t first = 0;
    int n;
    /* In chunks, as a caller that does not know the domain count must. */
    while ((n = xc_domain_getinfolist(xch, first, 256, info)) > 0) {
        for (int i = 0; i < n; i++) {
            const xc_domaininfo_t* d = &info[i];
            printf("%u flags=0x%x hvm=%d dying=%d shutdown=%d paused=%d reason=%u "
                   "tot_kib=%llu max_kib=%llu vcpus=%u cpu_ns=%llu\n",
                   d->domain, d->flags, !!(d->flags & XEN_DOMINF_hvm_guest),
                   !!(d->flags & XEN_DOMINF_dying), !!(d->flags & XEN_DOMINF_shutdown),
                   !!(d->flags & XEN_DOMINF_paused),
                   (d->flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask,
                   (unsigned long long)d->tot_pages * 4, (unsigned long long)d->max_pages * 4,
                   d->nr_online_vcpus, (unsigned long long)d->cpu_time);
        }
        first = info[n - 1].domain + 1u;
        if (n < 256)
            break;
    }
}

int main(int argc, char** argv) {
    if (argc < 2)
        return usage();
    xc_interface* xch = xc_interface_open(NULL, NULL, 0);
    if (!xch) {
        fprintf(stderr, "xc-probe: xc_interface_open: %s\n", strerror(errno));
        return 1;
    }
    const char* cmd = argv[1];
    int rc = 0;
    if (!strcmp(cmd, "list") && argc == 2) {
        print_list(xch);
    } else if (!strcmp(cmd, "getinfo") && argc == 4) {
        unsigned max = (unsigned)atoi(argv[3]);
        xc_dominfo_t* info = calloc(max ? max : 1, sizeof *info);
        int n = xc_domain_getinfo(xch, (uint32_t)atoi(argv[2]), max, info);
        if (n < 0)
            rc = report(n, "xc_domain_getinfo");
        for (int i = 0; i < n; i++)
            printf("%u dying=%d crashed=%d shutdown=%d paused=%d hvm=%d reason=%u\n", info[i].domid,
                   info[i].dying, info[i].crashed, info[i].shutdown, info[i].paused, info[i].hvm,
                   info[i].shutdown_reason);
        free(info);
    } else if (!strcmp(cmd, "walk") && argc == 3) {
        rc = walk(xch, atoi(argv[2]));
    } else if (!strcmp(cmd, "physinfo") && argc == 2) {
        xc_physinfo_t pi;
        rc = report(xc_physinfo(xch, &pi), "xc_physinfo");
        if (!rc)
            printf("total_kib=%llu free_kib=%llu nr_cpus=%u\n",
                   (unsigned long long)pi.total_pages * 4, (unsigned long long)pi.free_pages * 4,
                   pi.nr_cpus);
    } else if (!strcmp(cmd, "version") && argc == 2) {
        xen_extraversion_t extra;
        int v = xc_version(xch, XENVER_version, NULL);
        rc = report(v, "xc_version") ||
             report(xc_version(xch, XENVER_extraversion, &extra), "xc_version");
        if (!rc)
            printf("%d.%d%s\n", v >> 16, v & 0xffff, extra);
    } else if (!strcmp(cmd, "set-target") && argc == 4) {
        rc = report(xc_domain_set_target(xch, (uint32_t)atoi(argv[2]), (uint32_t)atoi(argv[3])),
                    "xc_domain_set_target");
    } else if (!strcmp(cmd, "pause") && argc == 3) {
        rc = report(xc_domain_pause(xch, (uint32_t)atoi(argv[2])), "xc_domain_pause");
    } else if (!strcmp(cmd, "unpause") && argc == 3) {
        rc = report(xc_domain_unpause(xch, (uint32_t)atoi(argv[2])), "xc_domain_unpause");
    } else if (!strcmp(cmd, "destroy") && argc == 3) {
        rc = report(xc_domain_destroy(xch, (uint32_t)atoi(argv[2])), "xc_domain_destroy");
    } else if (!strcmp(cmd, "shutdown") && argc == 4) {
        rc = report(xc_domain_shutdown(xch, (uint32_t)atoi(argv[2]), reason_code(argv[3])),
                    "xc_domain_shutdown");
    } else {
        rc = usage();
    }
    xc_interface_close(xch);
    return rc;
}
