/* The domain table of one simulated Xen host: what the hypervisor would know about
 * its domains. Every process of the host (xenstored and stubdomd through the shim, the
 * fake xl, the sim's helpers) shares one text file, $XENSIM_DIR/domains, serialised
 * with flock(2) on DIR/domains.lock: readers take a shared lock, writers an exclusive
 * one and replace the whole file (a new file renamed over it) before unlocking, so a
 * reader never sees half an update, even of a writer that was killed. */
#ifndef XENSIM_DOMTABLE_H
#define XENSIM_DOMTABLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XSIM_NAME_MAX 64
#define XSIM_PIDS_MAX 8

/* Domain flags, the hypervisor's view (XEN_DOMINF_*); "crashed" is shutdown with
 * reason SHUTDOWN_crash, as in Xen itself. */
#define XSIM_F_HVM 0x1u
#define XSIM_F_PAUSED 0x2u
#define XSIM_F_DYING 0x4u
#define XSIM_F_SHUTDOWN 0x8u
/* The sim's own bookkeeping: the domain's simulated boot has been started. */
#define XSIM_F_BOOTED 0x100u

#define XSIM_SHUTDOWN_CRASH 3u
#define XSIM_NO_TARGET UINT32_MAX

/* A dom0 process the sim started on a domain's behalf, checked by start time before
 * it is signalled so a recycled pid is never hit. Role 'b': the process that plays the
 * domain's boot (killed with the domain); 'c': xenconsoled's part for its console 0
 * (killed with the domain); 'm': a device model xl started (the toolstack signals it;
 * the sim only reaps it on `xensim down`). */
struct xsim_proc {
    pid_t pid;
    unsigned long long start;
    char role;
};

struct xsim_dom {
    uint32_t domid;
    char name[XSIM_NAME_MAX];
    unsigned flags;
    unsigned shutdown_reason;
    uint32_t target;
    uint64_t mem_kib;
    uint64_t maxmem_kib;
    unsigned vcpus;
    uint8_t handle[16];
    int nprocs;
    struct xsim_proc procs[XSIM_PIDS_MAX];
};

struct xsim_table {
    int fd;    /* DIR/domains.lock, locked */
    char* dir; /* the host's directory (xsim_table_open) */
    int exclusive;
    /* Bumped by every commit; starts random, so a new host in the same directory
     * never matches a cached copy of the old one. */
    uint64_t gen;
    uint32_t next_domid;
    uint64_t total_kib;
    size_t ndoms;
    struct xsim_dom* doms;
    /* Processes of domains that are gone but may still run (a device model the
     * toolstack signalled); `xensim down` ends them. */
    size_t norphans;
    struct xsim_proc* orphans;
};

/* Creates DIR/domains with dom0 only. Fails with EEXIST if it exists. */
int xsim_table_create(const char* dir, uint64_t total_kib, uint64_t dom0_kib, unsigned dom0_vcpus);

/* Opens and parses the table under a shared (exclusive=0) or exclusive lock, held
 * until xsim_table_close. Returns 0, or -1 with errno set. */
int xsim_table_open(struct xsim_table* t, const char* dir, int exclusive);
/* Rewrites the file from *t; needs the exclusive lock. */
int xsim_table_commit(struct xsim_table* t);
void xsim_table_close(struct xsim_table* t);

struct xsim_dom* xsim_table_find(struct xsim_table* t, uint32_t domid);
struct xsim_dom* xsim_table_find_name(struct xsim_table* t, const char* name);
/* Index of the first domain with domid >= first, or t->ndoms. Domains are kept sorted. */
size_t xsim_table_lower_bound(const struct xsim_table* t, uint32_t first);
/* Adds a domain with the next free domid (domids grow monotonically, as libxl's
 * recent-domid history makes them on real hosts). NULL and errno on failure. */
struct xsim_dom* xsim_table_add(struct xsim_table* t, const char* name);
/* Removes a domain; its still-running device models become orphans. */
void xsim_table_remove(struct xsim_table* t, uint32_t domid);
uint64_t xsim_table_used_kib(const struct xsim_table* t);
int xsim_dom_add_proc(struct xsim_dom* d, pid_t pid, char role);

/* A reader's private copy of the table, re-read only when some process has committed
 * since. For callers that ask often: xenstored asks about every domain, one call each,
 * on each VIRQ and each permission change. */
struct xsim_table_cache {
    int valid;
    struct xsim_table t;
};
/* The current table (read under a shared lock if the copy is stale), valid until the
 * next call on the cache; NULL with errno on failure. */
const struct xsim_table* xsim_table_cached(struct xsim_table_cache* c, const char* dir);
void xsim_table_cache_free(struct xsim_table_cache* c);

#ifdef __cplusplus
}
#endif

#endif
