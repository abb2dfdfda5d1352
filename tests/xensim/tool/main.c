/* xensim-tool: the domain-table chores of the xensim script.
 *   xensim-tool init DIR TOTAL_KIB DOM0_KIB   create the table with dom0 only
 *   xensim-tool procs DIR                     pids of every live sim process, one a line
 *   xensim-tool dump DIR                      the table, as stored */
#include "domtable.h"
#include "procutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void print_live(const struct xsim_proc* p) {
    if (xsim_proc_start(p->pid) == p->start)
        printf("%d\n", (int)p->pid);
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
    if (argc == 3 && (!strcmp(argv[1], "procs") || !strcmp(argv[1], "dump"))) {
        struct xsim_table t;
        if (xsim_table_open(&t, argv[2], 0)) {
            fprintf(stderr, "xensim-tool: cannot read %s/domains: %s\n", argv[2], strerror(errno));
            return 1;
        }
        if (!strcmp(argv[1], "procs")) {
            for (size_t i = 0; i < t.ndoms; i++)
                for (int k = 0; k < t.doms[i].nprocs; k++)
                    print_live(&t.doms[i].procs[k]);
            for (size_t i = 0; i < t.norphans; i++)
                print_live(&t.orphans[i]);
        } else {
            for (size_t i = 0; i < t.ndoms; i++) {
                const struct xsim_dom* d = &t.doms[i];
                printf("%u %s flags=0x%x reason=%u target=%d mem_kib=%llu procs=%d\n", d->domid,
                       d->name, d->flags, d->shutdown_reason,
                       d->target == XSIM_NO_TARGET ? -1 : (int)d->target,
                       (unsigned long long)d->mem_kib, d->nprocs);
            }
        }
        xsim_table_close(&t);
        return 0;
    }
    fprintf(stderr, "usage: xensim-tool init DIR TOTAL_KIB DOM0_KIB | procs DIR | dump DIR\n");
    return 2;
}
