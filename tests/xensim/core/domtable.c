#include "domtable.h"

#include "procutil.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The file, DIR/domains: one struct xsim_shared, mapped by every process of the host.
 * Its size does not depend on the number of domains; the pages of unused records are
 * never touched (a sparse file). */
#define MAGIC "xensim-domains 2"
#define DOMID_SPACE 0x8000u /* a power of two above XSIM_DOMID_LIMIT */
#define BITMAP_WORDS (DOMID_SPACE / 64)
#define SUMMARY_WORDS (BITMAP_WORDS / 64)
/* Open addressing on the name, linear probing; at least twice the domids, so a probe
 * stays short. A bucket holds domid + 1; 0 is empty, TOMB a removed name. */
#define NAME_BUCKETS 0x10000u
#define TOMB 0xffffu
#define ORPHANS_MAX 256
#define JOURNAL_ENTRIES 64
#define JOURNAL_BYTES 16384

struct journal_entry {
    uint32_t off; /* into struct xsim_shared */
    uint32_t len;
    uint32_t at; /* its old bytes, in data */
};

struct xsim_shared {
    char magic[32];
    uint32_t size; /* sizeof(struct xsim_shared): a table of another layout is refused */
    uint32_t pad;
    /* Even: the table is whole. Odd: a writer is changing it (or died doing so). */
    uint64_t seq;
    /* The undo journal: the old bytes of each region the writer of the moment changed,
     * in order. Empty while seq is even. */
    uint32_t jn;
    uint32_t jused;
    struct journal_entry jent[JOURNAL_ENTRIES];
    unsigned char jdata[JOURNAL_BYTES];
    uint64_t total_kib;
    /* What changes with the domains, noted as one region. */
    struct counts {
        uint64_t used_kib;
        uint32_t ndoms;
        uint32_t next_domid;
        uint32_t names_live;
        uint32_t names_dead;
        uint32_t names_active; /* which of names[] is the index */
        uint32_t norphans;
    } c;
    /* Processes of domains that are gone but may still run (a device model the
     * toolstack signalled); `xensim down` ends them. */
    struct xsim_proc orphans[ORPHANS_MAX];
    uint64_t present[BITMAP_WORDS];
    /* Bit w: present[w] is not empty. A search for the next domid in use reads a few
     * words whatever the domids: listing from the last domain on is as cheap as any. */
    uint64_t summary[SUMMARY_WORDS];
    uint16_t names[2][NAME_BUCKETS];
    struct xsim_dom doms[DOMID_SPACE]; /* by domid */
};

/* -- paths and the lock ---------------------------------------------------------- */

static int path_in(char* buf, size_t len, const char* dir, const char* leaf) {
    if (!dir || !*dir) {
        errno = ENOENT;
        return -1;
    }
    if ((size_t)snprintf(buf, len, "%s/%s", dir, leaf) >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

static int flock_retry(int fd, int op) {
    int r;
    while ((r = flock(fd, op)) < 0 && errno == EINTR)
        ;
    return r;
}

/* -- the sequence count ------------------------------------------------------------ */
/* A seqlock across processes (Boehm, "Can seqlocks get along with programming language
 * memory models?"): a reader copies what it needs between two reads of seq and keeps
 * the copy only if seq was even and did not change. */

static uint64_t seq_load(const struct xsim_shared* m) {
    return __atomic_load_n(&m->seq, __ATOMIC_ACQUIRE);
}

static int seq_changed(const struct xsim_shared* m, uint64_t s) {
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return __atomic_load_n(&m->seq, __ATOMIC_RELAXED) != s;
}

/* Puts back the old bytes a dead writer's journal holds, newest first, and marks the
 * table whole. Idempotent: a repairer killed in turn leaves the journal for the next. */
static void repair(struct xsim_shared* m) {
    if (!(__atomic_load_n(&m->seq, __ATOMIC_ACQUIRE) & 1))
        return;
    uint32_t n = m->jn < JOURNAL_ENTRIES ? m->jn : JOURNAL_ENTRIES;
    for (uint32_t i = n; i-- > 0;) {
        const struct journal_entry* e = &m->jent[i];
        if ((size_t)e->off + e->len <= sizeof *m && (size_t)e->at + e->len <= JOURNAL_BYTES)
            memcpy((char*)m + e->off, m->jdata + e->at, e->len);
    }
    __atomic_store_n(&m->jn, 0, __ATOMIC_RELEASE);
    m->jused = 0;
    __atomic_store_n(&m->seq, m->seq + 1, __ATOMIC_RELEASE);
}

/* A reader that found seq odd: a writer is at work, or died at work. Its lock is free
 * once it is done or dead; a dead one's half-done edit is undone here. */
static void wait_for_writer(struct xsim_table* t) {
    if (t->lockfd < 0 || flock_retry(t->lockfd, LOCK_EX) < 0) {
        sched_yield();
        return;
    }
    if (t->writable)
        repair(t->m);
    flock_retry(t->lockfd, LOCK_UN);
}

/* Runs the statements until they saw the table whole. A handle that holds the lock sees its own
 * table directly, uncommitted edits included. */
#define READ_CONSISTENT(t, ...)                                                                    \
    do {                                                                                           \
        if ((t)->exclusive) {                                                                      \
            __VA_ARGS__;                                                                           \
            break;                                                                                 \
        }                                                                                          \
        for (;;) {                                                                                 \
            uint64_t s_ = seq_load((t)->m);                                                        \
            if (s_ & 1) {                                                                          \
                wait_for_writer(t);                                                                \
                continue;                                                                          \
            }                                                                                      \
            __VA_ARGS__;                                                                           \
            if (!seq_changed((t)->m, s_))                                                          \
                break;                                                                             \
        }                                                                                          \
    } while (0)

/* -- the journal ---------------------------------------------------------------------- */

/* XENSIM_KILL_WRITER_AFTER=N: the process SIGKILLs itself when it is about to note its
 * N+1th region, the N before it changed: the tests' writer killed in the middle. */
static long kill_writer_after(void) {
    static long n = -2;
    if (n == -2) {
        const char* v = getenv("XENSIM_KILL_WRITER_AFTER");
        n = v && *v ? strtol(v, NULL, 10) : -1;
    }
    return n;
}

/* Notes the old bytes of [p, p+len) before the writer changes them. */
static int journal(struct xsim_table* t, const void* p, size_t len) {
    struct xsim_shared* m = t->m;
    if (!t->exclusive) {
        errno = EPERM;
        return -1;
    }
    static long noted;
    long limit = kill_writer_after();
    if (limit >= 0 && noted++ >= limit)
        raise(SIGKILL);
    if (m->jn >= JOURNAL_ENTRIES || m->jused + len > JOURNAL_BYTES) {
        errno = ENOSPC;
        return -1;
    }
    if (!t->dirty) {
        /* Odd before the first change: readers keep off from here on. */
        __atomic_store_n(&m->seq, m->seq + 1, __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_RELEASE);
        t->dirty = 1;
    }
    struct journal_entry* e = &m->jent[m->jn];
    e->off = (uint32_t)((const char*)p - (const char*)m);
    e->len = (uint32_t)len;
    e->at = m->jused;
    memcpy(m->jdata + m->jused, p, len);
    m->jused += (uint32_t)len;
    /* The entry is whole before it counts, and counts before the region changes. */
    __atomic_store_n(&m->jn, m->jn + 1, __ATOMIC_RELEASE);
    return 0;
}

/* The writer's edit is done: the journal is dropped first, then seq is even again (the
 * other order would let a repair undo an edit readers had already seen). */
static void finish(struct xsim_shared* m) {
    __atomic_store_n(&m->jn, 0, __ATOMIC_RELEASE);
    m->jused = 0;
    __atomic_store_n(&m->seq, m->seq + 1, __ATOMIC_RELEASE);
}

/* -- domids and names --------------------------------------------------------------- */

static int is_present(const struct xsim_shared* m, uint32_t domid) {
    return domid < DOMID_SPACE && (m->present[domid / 64] >> (domid % 64) & 1);
}

/* The first set bit at or after `first` in words[0..nwords), or nwords * 64. */
static uint32_t next_bit(const uint64_t* words, uint32_t nwords, uint32_t first) {
    uint32_t w = first / 64;
    if (w >= nwords)
        return nwords * 64;
    uint64_t bits = words[w] & (~0ull << (first % 64));
    while (!bits) {
        if (++w == nwords)
            return nwords * 64;
        bits = words[w];
    }
    return w * 64 + (uint32_t)__builtin_ctzll(bits);
}

/* The first domid >= first in use, or DOMID_SPACE: the rest of first's word, then the
 * next non-empty word the summary names. */
static uint32_t next_present(const struct xsim_shared* m, uint32_t first) {
    if (first >= DOMID_SPACE)
        return DOMID_SPACE;
    uint64_t bits = m->present[first / 64] & (~0ull << (first % 64));
    if (bits)
        return first / 64 * 64 + (uint32_t)__builtin_ctzll(bits);
    uint32_t w = next_bit(m->summary, SUMMARY_WORDS, first / 64 + 1);
    if (w >= BITMAP_WORDS)
        return DOMID_SPACE;
    return w * 64 + (uint32_t)__builtin_ctzll(m->present[w]);
}

static int set_present(struct xsim_table* t, uint32_t domid, int on) {
    struct xsim_shared* m = t->m;
    uint64_t* w = &m->present[domid / 64];
    uint64_t* sw = &m->summary[domid / 64 / 64];
    if (journal(t, w, sizeof *w) || journal(t, sw, sizeof *sw))
        return -1;
    if (on)
        *w |= 1ull << (domid % 64);
    else
        *w &= ~(1ull << (domid % 64));
    if (*w)
        *sw |= 1ull << (domid / 64 % 64);
    else
        *sw &= ~(1ull << (domid / 64 % 64));
    return 0;
}

static uint32_t name_hash(const char* name) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char* p = (const unsigned char*)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

/* The bucket that holds name (its domid: *domid), or -1. */
static long name_bucket(const struct xsim_shared* m, const char* name, uint32_t* domid) {
    const uint16_t* b = m->names[m->c.names_active & 1];
    uint32_t i = name_hash(name) & (NAME_BUCKETS - 1);
    for (uint32_t probes = 0; probes < NAME_BUCKETS; probes++, i = (i + 1) & (NAME_BUCKETS - 1)) {
        uint16_t v = b[i];
        if (v == 0)
            return -1;
        if (v == TOMB)
            continue;
        uint32_t d = (uint32_t)v - 1;
        if (is_present(m, d) && !strncmp(m->doms[d].name, name, XSIM_NAME_MAX)) {
            *domid = d;
            return (long)i;
        }
    }
    return -1;
}

/* The index without its removed names, built in the other array, which then becomes
 * the index: one word changes, so a writer killed while building leaves the old one. */
static int rebuild_names(struct xsim_table* t) {
    struct xsim_shared* m = t->m;
    uint32_t other = (m->c.names_active & 1) ^ 1;
    uint16_t* b = m->names[other];
    memset(b, 0, sizeof m->names[other]);
    uint32_t live = 0;
    for (uint32_t d = next_present(m, 0); d < DOMID_SPACE; d = next_present(m, d + 1)) {
        uint32_t i = name_hash(m->doms[d].name) & (NAME_BUCKETS - 1);
        while (b[i])
            i = (i + 1) & (NAME_BUCKETS - 1);
        b[i] = (uint16_t)(d + 1);
        live++;
    }
    if (journal(t, &m->c, sizeof m->c))
        return -1;
    m->c.names_live = live;
    m->c.names_dead = 0;
    m->c.names_active = other;
    return 0;
}

static int name_insert(struct xsim_table* t, const char* name, uint32_t domid) {
    struct xsim_shared* m = t->m;
    if (m->c.names_live + m->c.names_dead + 1 > NAME_BUCKETS / 2 && rebuild_names(t))
        return -1;
    uint16_t* b = m->names[m->c.names_active & 1];
    uint32_t i = name_hash(name) & (NAME_BUCKETS - 1);
    while (b[i] != 0 && b[i] != TOMB)
        i = (i + 1) & (NAME_BUCKETS - 1);
    if (journal(t, &b[i], sizeof b[i]) || journal(t, &m->c, sizeof m->c))
        return -1;
    if (b[i] == TOMB)
        m->c.names_dead--;
    b[i] = (uint16_t)(domid + 1);
    m->c.names_live++;
    return 0;
}

static int name_remove(struct xsim_table* t, const char* name) {
    struct xsim_shared* m = t->m;
    uint32_t domid;
    long i = name_bucket(m, name, &domid);
    if (i < 0)
        return 0;
    uint16_t* b = &m->names[m->c.names_active & 1][i];
    if (journal(t, b, sizeof *b) || journal(t, &m->c, sizeof m->c))
        return -1;
    *b = TOMB;
    m->c.names_live--;
    m->c.names_dead++;
    return 0;
}

static int valid_name(const char* name) {
    size_t n = strnlen(name, XSIM_NAME_MAX);
    if (n == 0 || n >= XSIM_NAME_MAX)
        return 0;
    for (const char* p = name; *p; p++)
        if (isspace((unsigned char)*p) || *p == ',')
            return 0;
    return 1;
}

/* -- opening ------------------------------------------------------------------------- */

static int map_table(struct xsim_table* t, const char* dir) {
    char path[4096];
    if (path_in(path, sizeof path, dir, "domains"))
        return -1;
    /* Read-write where allowed: a reader may have to repair a dead writer's edit. */
    int writable = 1;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 && (errno == EACCES || errno == EROFS)) {
        writable = 0;
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0)
        return -1;
    struct stat st;
    void* p = MAP_FAILED;
    if (fstat(fd, &st) == 0 && (size_t)st.st_size == sizeof(struct xsim_shared))
        p = mmap(NULL, sizeof(struct xsim_shared), PROT_READ | (writable ? PROT_WRITE : 0),
                 MAP_SHARED, fd, 0);
    else
        errno = EPROTO; /* not a table of this layout */
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) {
        errno = e;
        return -1;
    }
    t->m = p;
    t->len = sizeof(struct xsim_shared);
    t->writable = writable;
    if (memcmp(t->m->magic, MAGIC, sizeof MAGIC) || t->m->size != sizeof(struct xsim_shared)) {
        munmap(p, t->len);
        t->m = NULL;
        errno = EPROTO;
        return -1;
    }
    return 0;
}

int xsim_table_open(struct xsim_table* t, const char* dir, int exclusive) {
    memset(t, 0, sizeof *t);
    t->lockfd = -1;
    char lock[4096];
    if (path_in(lock, sizeof lock, dir, "domains.lock"))
        return -1;
    t->lockfd = open(lock, O_RDONLY | O_CLOEXEC);
    if (t->lockfd < 0 || map_table(t, dir)) {
        int e = errno;
        xsim_table_close(t);
        errno = e;
        return -1;
    }
    if (exclusive) {
        if (!t->writable) {
            xsim_table_close(t);
            errno = EACCES;
            return -1;
        }
        if (flock_retry(t->lockfd, LOCK_EX) < 0) {
            int e = errno;
            xsim_table_close(t);
            errno = e;
            return -1;
        }
        repair(t->m);
        t->exclusive = 1;
    }
    return 0;
}

int xsim_table_commit(struct xsim_table* t) {
    if (!t->exclusive) {
        errno = EPERM;
        return -1;
    }
    if (t->dirty)
        finish(t->m);
    t->dirty = 0;
    return 0;
}

void xsim_table_close(struct xsim_table* t) {
    if (t->m && t->dirty) {
        /* Not committed: undone, as if this writer had died. */
        repair(t->m);
        t->dirty = 0;
    }
    if (t->lockfd >= 0)
        close(t->lockfd); /* drops the flock */
    if (t->m)
        munmap(t->m, t->len);
    memset(t, 0, sizeof *t);
    t->lockfd = -1;
}

int xsim_table_create(const char* dir, uint64_t total_kib, uint64_t dom0_kib, unsigned dom0_vcpus) {
    char path[4096], tmp[4200], lock[4200];
    if (path_in(path, sizeof path, dir, "domains") ||
        path_in(lock, sizeof lock, dir, "domains.lock"))
        return -1;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.new.%d", path, (int)getpid()) >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* The lock first: whoever sees the table can lock it. */
    int lockfd = open(lock, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (lockfd < 0)
        return -1;
    close(lockfd);
    unlink(tmp); /* left by a process of this pid that was killed while writing */
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    struct xsim_shared* m = MAP_FAILED;
    if (ftruncate(fd, sizeof *m) == 0)
        m = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int rc = -1;
    if (m != MAP_FAILED) {
        /* The file is all zeros: only what is not zero is written. */
        memcpy(m->magic, MAGIC, sizeof MAGIC);
        m->size = sizeof *m;
        m->total_kib = total_kib;
        m->c.used_kib = dom0_kib;
        m->c.ndoms = 1;
        m->c.next_domid = 1;
        struct xsim_dom* d0 = &m->doms[0];
        snprintf(d0->name, sizeof d0->name, "Domain-0");
        d0->target = XSIM_NO_TARGET;
        d0->mem_kib = d0->maxmem_kib = dom0_kib;
        d0->vcpus = dom0_vcpus ? dom0_vcpus : 1;
        m->present[0] = 1;
        m->summary[0] = 1;
        m->names[0][name_hash(d0->name) & (NAME_BUCKETS - 1)] = 1;
        m->c.names_live = 1;
        rc = msync(m, sizeof *m, MS_SYNC);
        munmap(m, sizeof *m);
    }
    int e = errno;
    close(fd);
    /* link() publishes the complete file at once and refuses an existing table. */
    if (rc == 0 && (rc = link(tmp, path)) < 0)
        e = errno;
    unlink(tmp);
    errno = e;
    return rc;
}

/* -- reading ---------------------------------------------------------------------------- */

void xsim_table_info(struct xsim_table* t, struct xsim_host_info* out) {
    const struct xsim_shared* m = t->m;
    READ_CONSISTENT(t, {
        out->total_kib = m->total_kib;
        out->used_kib = m->c.used_kib;
        out->ndoms = m->c.ndoms;
        out->next_domid = m->c.next_domid;
    });
}

int xsim_table_get(struct xsim_table* t, uint32_t domid, struct xsim_dom* out) {
    const struct xsim_shared* m = t->m;
    int found = 0;
    READ_CONSISTENT(t, {
        found = is_present(m, domid);
        if (found)
            memcpy(out, &m->doms[domid], sizeof *out);
    });
    return found;
}

int xsim_table_get_name(struct xsim_table* t, const char* name, struct xsim_dom* out) {
    const struct xsim_shared* m = t->m;
    int found = 0;
    READ_CONSISTENT(t, {
        uint32_t domid = 0;
        found = name_bucket(m, name, &domid) >= 0;
        if (found)
            memcpy(out, &m->doms[domid], sizeof *out);
    });
    return found;
}

size_t xsim_table_list(struct xsim_table* t, uint32_t first, struct xsim_dom* out, size_t max) {
    const struct xsim_shared* m = t->m;
    size_t n = 0;
    READ_CONSISTENT(t, {
        n = 0;
        for (uint32_t d = next_present(m, first); d < DOMID_SPACE && n < max;
             d = next_present(m, d + 1))
            memcpy(&out[n++], &m->doms[d], sizeof *out);
    });
    return n;
}

int xsim_table_check(struct xsim_table* t, char* why, size_t len) {
    const struct xsim_shared* m = t->m;
    READ_CONSISTENT(t, {
        why[0] = '\0';
        uint32_t count = 0;
        uint64_t used = 0;
        for (uint32_t d = next_present(m, 0); d < DOMID_SPACE && !why[0];
             d = next_present(m, d + 1)) {
            uint32_t found = XSIM_NO_TARGET;
            count++;
            used += m->doms[d].mem_kib;
            if (m->doms[d].domid != d)
                snprintf(why, len, "record %u says domid %u", d, m->doms[d].domid);
            else if (!valid_name(m->doms[d].name))
                snprintf(why, len, "domain %u has no valid name", d);
            else if (name_bucket(m, m->doms[d].name, &found) < 0 || found != d)
                snprintf(why, len, "name %s of domain %u finds %d", m->doms[d].name, d,
                         found == XSIM_NO_TARGET ? -1 : (int)found);
        }
        for (uint32_t w = 0; w < BITMAP_WORDS && !why[0]; w++)
            if (!m->present[w] != !(m->summary[w / 64] >> (w % 64) & 1))
                snprintf(why, len, "the summary of domids %u-%u is wrong", w * 64, w * 64 + 63);
        if (!why[0] && (count != m->c.ndoms || count != m->c.names_live))
            snprintf(why, len, "%u domains, but ndoms %u and %u names", count, m->c.ndoms,
                     m->c.names_live);
        else if (!why[0] && used != m->c.used_kib)
            snprintf(why, len, "domains use %llu KiB, but used_kib is %llu",
                     (unsigned long long)used, (unsigned long long)m->c.used_kib);
    });
    return why[0] ? -1 : 0;
}

size_t xsim_table_procs(struct xsim_table* t, struct xsim_proc* out, size_t max) {
    const struct xsim_shared* m = t->m;
    size_t n = 0;
    READ_CONSISTENT(t, {
        n = 0;
        for (uint32_t d = next_present(m, 0); d < DOMID_SPACE; d = next_present(m, d + 1))
            for (int k = 0; k < m->doms[d].nprocs && k < XSIM_PIDS_MAX && n < max; k++)
                out[n++] = m->doms[d].procs[k];
        for (uint32_t i = 0; i < m->c.norphans && i < ORPHANS_MAX && n < max; i++)
            out[n++] = m->orphans[i];
    });
    /* Only the ones still running: a start time that no longer matches is someone else. */
    size_t live = 0;
    for (size_t i = 0; i < n; i++)
        if (xsim_proc_start(out[i].pid) == out[i].start)
            out[live++] = out[i];
    return live;
}

/* -- writing ---------------------------------------------------------------------------- */

uint32_t xsim_table_add(struct xsim_table* t, const struct xsim_dom* init) {
    struct xsim_shared* m = t->m;
    if (!t->exclusive) {
        errno = EPERM;
        return XSIM_NO_TARGET;
    }
    if (!valid_name(init->name)) {
        errno = EINVAL;
        return XSIM_NO_TARGET;
    }
    uint32_t ignored;
    if (name_bucket(m, init->name, &ignored) >= 0) {
        errno = EEXIST;
        return XSIM_NO_TARGET;
    }
    /* Wrap below DOMID_FIRST_RESERVED like Xen, skipping domids in use. */
    uint32_t domid = m->c.next_domid;
    for (unsigned tries = 0; domid == 0 || is_present(m, domid); tries++) {
        if (tries > XSIM_DOMID_LIMIT) {
            errno = ENOSPC;
            return XSIM_NO_TARGET;
        }
        domid = domid + 1 >= XSIM_DOMID_LIMIT ? 1 : domid + 1;
    }
    struct xsim_dom* d = &m->doms[domid];
    if (journal(t, d, sizeof *d))
        return XSIM_NO_TARGET;
    *d = *init;
    d->domid = domid;
    d->name[XSIM_NAME_MAX - 1] = '\0';
    d->target = XSIM_NO_TARGET;
    d->nprocs = 0;
    if (!d->vcpus)
        d->vcpus = 1;
    if (journal(t, &m->c, sizeof m->c))
        return XSIM_NO_TARGET;
    m->c.used_kib += d->mem_kib;
    m->c.ndoms++;
    m->c.next_domid = domid + 1 >= XSIM_DOMID_LIMIT ? 1 : domid + 1;
    if (set_present(t, domid, 1) || name_insert(t, d->name, domid))
        return XSIM_NO_TARGET;
    return domid;
}

struct xsim_dom* xsim_table_edit(struct xsim_table* t, uint32_t domid) {
    if (!is_present(t->m, domid)) {
        errno = ESRCH;
        return NULL;
    }
    struct xsim_dom* d = &t->m->doms[domid];
    return journal(t, d, sizeof *d) ? NULL : d;
}

/* Room for one more orphan: the ones that have ended make room first. */
static int add_orphan(struct xsim_table* t, const struct xsim_proc* p) {
    struct xsim_shared* m = t->m;
    if (m->c.norphans == ORPHANS_MAX) {
        if (journal(t, &m->c, sizeof m->c) || journal(t, m->orphans, sizeof m->orphans))
            return -1;
        uint32_t k = 0;
        for (uint32_t i = 0; i < m->c.norphans; i++)
            if (xsim_proc_start(m->orphans[i].pid) == m->orphans[i].start)
                m->orphans[k++] = m->orphans[i];
        m->c.norphans = k;
        if (k == ORPHANS_MAX) {
            errno = ENOSPC;
            return -1;
        }
    }
    if (journal(t, &m->orphans[m->c.norphans], sizeof *p) || journal(t, &m->c, sizeof m->c))
        return -1;
    m->orphans[m->c.norphans++] = *p;
    return 0;
}

int xsim_table_remove(struct xsim_table* t, uint32_t domid) {
    struct xsim_shared* m = t->m;
    if (!t->exclusive) {
        errno = EPERM;
        return -1;
    }
    if (!is_present(m, domid)) {
        errno = ESRCH;
        return -1;
    }
    const struct xsim_dom* d = &m->doms[domid];
    for (int i = 0; i < d->nprocs && i < XSIM_PIDS_MAX; i++)
        if (d->procs[i].role == 'm' && xsim_proc_start(d->procs[i].pid) == d->procs[i].start &&
            add_orphan(t, &d->procs[i]) && errno != ENOSPC)
            return -1; /* a full list of live orphans: this one goes unrecorded */
    if (name_remove(t, d->name) || set_present(t, domid, 0) || journal(t, &m->c, sizeof m->c))
        return -1;
    m->c.used_kib -= d->mem_kib;
    m->c.ndoms--;
    return 0;
}

int xsim_dom_add_proc(struct xsim_dom* d, pid_t pid, char role) {
    /* Drop entries of processes that have ended, to make room. */
    int k = 0;
    for (int i = 0; i < d->nprocs; i++)
        if (xsim_proc_start(d->procs[i].pid) == d->procs[i].start)
            d->procs[k++] = d->procs[i];
    d->nprocs = k;
    if (d->nprocs == XSIM_PIDS_MAX) {
        errno = ENOSPC;
        return -1;
    }
    unsigned long long start = xsim_proc_start(pid);
    if (!start) {
        errno = ESRCH;
        return -1;
    }
    d->procs[d->nprocs++] = (struct xsim_proc){pid, role, start};
    return 0;
}

uint64_t xsim_dom_cpu_ns(const struct xsim_dom* d) {
    if (!d->running_since_ns)
        return d->cpu_ns;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    return d->cpu_ns + (ns > d->running_since_ns ? ns - d->running_since_ns : 0);
}
