/* The domain table of one simulated Xen host: what the hypervisor would know about
 * its domains. Every process of the host (xenstored and stubdomd through the shim, the
 * fake xl, the sim's helpers) maps one file, $XENSIM_DIR/domains, shared.
 *
 * Every operation costs the same whatever the number of domains, as a hypercall does:
 * a domain's record sits at its domid, a bitmap lists the domids in use, and a hash of
 * names finds a domain by name. Readers take no lock: a sequence count tells them a
 * writer was in the middle and they read again. Writers serialise with flock(2) on
 * DIR/domains.lock and note the old bytes of what they change in an undo journal
 * inside the file first, so a writer killed in the middle (a toolstack SIGKILLed with
 * the daemon that ran it) leaves the table as it was: the next process to find the
 * table half-written puts the old bytes back, as a killed xl leaves the hypervisor's
 * state whole. */
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
/* DOMID_FIRST_RESERVED: domids are below it. */
#define XSIM_DOMID_LIMIT 0x7ff0u

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
 * domain's boot (killed with the domain); 'm': a device model xl started (the toolstack
 * signals it; the sim only reaps it on `xensim down`). */
struct xsim_proc {
    pid_t pid;
    char role;
    unsigned long long start;
};

struct xsim_dom {
    uint32_t domid;
    char name[XSIM_NAME_MAX];
    unsigned flags;
    unsigned shutdown_reason;
    uint32_t target;
    uint64_t mem_kib; /* fixed at creation: the sim has no ballooning */
    uint64_t maxmem_kib;
    unsigned vcpus;
    uint8_t handle[16];
    int nprocs;
    struct xsim_proc procs[XSIM_PIDS_MAX];
    /* The sim's vCPU time: its vCPUs count as busy whenever the domain is neither paused
     * nor shut down (the sim runs no guest code). cpu_ns is what was run up to
     * running_since_ns (CLOCK_MONOTONIC; 0 while not running): xsim_dom_cpu_ns. */
    uint64_t cpu_ns;
    uint64_t running_since_ns;
};

/* The domain's vCPU time now, as xc_domain_getinfolist's cpu_time. */
uint64_t xsim_dom_cpu_ns(const struct xsim_dom* d);

/* What the host as a whole holds. */
struct xsim_host_info {
    uint64_t total_kib;
    uint64_t used_kib; /* every domain's mem_kib */
    uint32_t ndoms;
    uint32_t next_domid;
};

struct xsim_shared;

/* One process's handle on the table: a mapping of DIR/domains, and while a writer
 * holds it, the lock. Readers use any handle without a lock; a writer's handle reads
 * its own uncommitted edits. */
struct xsim_table {
    struct xsim_shared* m;
    size_t len;
    int lockfd;    /* DIR/domains.lock */
    int exclusive; /* the lock is held (xsim_table_open with exclusive) */
    int dirty;     /* edits not yet committed */
    int writable;  /* mapped read-write (a reader without write access cannot repair) */
};

/* Creates DIR/domains with dom0 only. Fails with EEXIST if it exists. */
int xsim_table_create(const char* dir, uint64_t total_kib, uint64_t dom0_kib, unsigned dom0_vcpus);

/* Maps the table; with exclusive, also takes the writers' lock (held until close),
 * after repairing what a writer killed in the middle left. 0, or -1 with errno. */
int xsim_table_open(struct xsim_table* t, const char* dir, int exclusive);
/* Makes a writer's edits part of the table (they are visible to readers only now). */
int xsim_table_commit(struct xsim_table* t);
/* Edits not committed are undone; the lock is dropped and the table unmapped. */
void xsim_table_close(struct xsim_table* t);

/* Reads, with or without the lock: copies out, consistent with one moment. */
void xsim_table_info(struct xsim_table* t, struct xsim_host_info* out);
/* 1 and *out if the domain exists, else 0. */
int xsim_table_get(struct xsim_table* t, uint32_t domid, struct xsim_dom* out);
int xsim_table_get_name(struct xsim_table* t, const char* name, struct xsim_dom* out);
/* The domains with domid >= first, in order, at most max of them: how many were
 * copied to out. */
size_t xsim_table_list(struct xsim_table* t, uint32_t first, struct xsim_dom* out, size_t max);

/* Writes; each needs the lock, fails with EPERM without it. */
/* Adds a domain with the fields of *init (name, flags, memory, vcpus, handle) under
 * the next free domid (domids grow monotonically, as libxl's recent-domid history makes
 * them on real hosts): the domid, or XSIM_NO_TARGET with errno (EEXIST: the name is
 * taken; EINVAL: not a valid name; ENOSPC: no domid left). */
uint32_t xsim_table_add(struct xsim_table* t, const struct xsim_dom* init);
/* The domain's record, to change in place until the commit (its old bytes are noted
 * first); NULL with ESRCH if there is no such domain. Not for mem_kib or the name. */
struct xsim_dom* xsim_table_edit(struct xsim_table* t, uint32_t domid);
/* Removes a domain; its still-running device models become orphans. */
int xsim_table_remove(struct xsim_table* t, uint32_t domid);
/* Records a process of the domain (on a record from xsim_table_edit). */
int xsim_dom_add_proc(struct xsim_dom* d, pid_t pid, char role);

/* Checks, in one consistent read, that the table agrees with itself (the domain count,
 * used memory, the name index, each record's domid): 0, or -1 with what is wrong in
 * why. What a test of writers killed in the middle asks after each kill. */
int xsim_table_check(struct xsim_table* t, char* why, size_t len);

/* Every live process the sim recorded: the domains' and the orphans'. For `xensim
 * down`, which is allowed to take time with the number of domains. */
size_t xsim_table_procs(struct xsim_table* t, struct xsim_proc* out, size_t max);

#ifdef __cplusplus
}
#endif

#endif
