/* xensim-tool: the domain-table chores of the xensim script.
 *   xensim-tool init DIR TOTAL_KIB DOM0_KIB   create the table with dom0 only
 *   xensim-tool procs DIR                     pids of every live sim process, one a line
 *   xensim-tool dump DIR                      the table, as stored
 *   xensim-tool check DIR                     "ok" if the table agrees with itself, else
 *                                             what is wrong (exit 1) */
#include "domtable.h"
#include "procutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int print_procs(struct xsim_table* t) {
    struct xsim_host_info info;
    xsim_table_info(t, &info);
    size_t max = ((size_t)info.ndoms + 16) * XSIM_PIDS_MAX + 1024;
    struct xsim_proc* procs = calloc(max, sizeof *procs);
    if (!procs)
        return 1;
    size_t n = xsim_table_procs(t, procs, max);
    for (size_t i = 0; i < n; i++)
        printf("%d\n", (int)procs[i].pid);
    free(procs);
    return 0;
}

/* One line a domain: DOMID NAME flags=0xHEX reason=N target=N|-1 mem_kib=N procs=N
 * booting=0|1 (booting: its boot helper still runs, so its simulated life, a fault's
 * crash included, is still to come). */
static int dump(struct xsim_table* t) {
    struct xsim_dom chunk[64];
    uint32_t first = 0;
    size_t got;
    do {
        got = xsim_table_list(t, first, chunk, 64);
        for (size_t i = 0; i < got; i++) {
            const struct xsim_dom* d = &chunk[i];
            int booting = 0;
            for (int k = 0; k < d->nprocs; k++)
                booting |= d->procs[k].role == 'b' &&
                           xsim_proc_start(d->procs[k].pid) == d->procs[k].start;
            printf("%u %s flags=0x%x reason=%u target=%d mem_kib=%llu procs=%d booting=%d\n",
                   d->domid, d->name, d->flags, d->shutdown_reason,
                   d->target == XSIM_NO_TARGET ? -1 : (int)d->target,
                   (unsigned long long)d->mem_kib, d->nprocs, booting);
            first = d->domid + 1;
        }
    } while (got == 64);
    return 0;
}

int main(int argc, char** argv) {
    if (argc == 5 && !strcmp(argv[1], "init")) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        if (xsim_table_create(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10),
                              cpus > 0 ? (unsigned)cpus : 1)) {
            fprintf(stderr, "xensim-tool: cannot create %s/domains: %s\n", argv[2],
                    strerror(errno));
            return 1;
        }
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "check")) {
        struct xsim_table t;
        if (xsim_table_open(&t, argv[2], 0)) {
            fprintf(stderr, "xensim-tool: cannot read %s/domains: %s\n", argv[2], strerror(errno));
            return 1;
        }
        char why[256];
        int rc = xsim_table_check(&t, why, sizeof why);
        xsim_table_close(&t);
        printf("%s\n", rc ? why : "ok");
        return rc ? 1 : 0;
    }
    if (argc == 3 && (!strcmp(argv[1], "procs") || !strcmp(argv[1], "dump"))) {
        struct xsim_table t;
        if (xsim_table_open(&t, argv[2], 0)) {
            fprintf(stderr, "xensim-tool: cannot read %s/domains: %s\n", argv[2], strerror(errno));
            return 1;
        }
        int rc = !strcmp(argv[1], "procs") ? print_procs(&t) : dump(&t);
        xsim_table_close(&t);
        return rc;
    }
    fprintf(stderr,
            "usage: xensim-tool init DIR TOTAL_KIB DOM0_KIB | procs DIR | dump DIR | check DIR\n");
    return 2;
}
