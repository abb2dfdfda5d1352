#include "domtable.h"

#include "procutil.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* File format, one record a line, fields "key=value" without blanks:
 *   xensim-domains 1
 *   host gen=N next_domid=N total_kib=N
 *   dom DOMID name=S flags=0xHEX reason=N target=N|- mem_kib=N maxmem_kib=N vcpus=N
 *       handle=32HEX procs=ROLE:PID:START,...|-
 *   orphan ROLE:PID:START
 */
#define MAGIC "xensim-domains 1"

static int table_path(char* buf, size_t len, const char* dir);

/* The lock is a file of its own, DIR/domains.lock: a commit replaces the table by
 * rename(2), so that a writer killed in the middle (SIGKILL of a toolstack) leaves
 * the old table whole, as a hypervisor's state would be; a lock on the table's own
 * inode would go with the inode it replaces. */
static int lock_path(char* buf, size_t len, const char* dir) {
    if (table_path(buf, len, dir))
        return -1;
    if (strlen(buf) + sizeof ".lock" > len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcat(buf, ".lock");
    return 0;
}

/* Opens DIR/domains.lock and takes the lock; the fd, or -1. */
static int take_lock(const char* dir, int exclusive) {
    char path[4096];
    if (lock_path(path, sizeof path, dir))
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r;
    while ((r = flock(fd, exclusive ? LOCK_EX : LOCK_SH)) < 0 && errno == EINTR)
        ;
    if (r < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* The table's text, read under the lock the caller holds; NULL with errno set. */
static char* read_all(int fd);
static char* read_table(const char* dir) {
    char path[4096];
    if (table_path(path, sizeof path, dir))
        return NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char* text = read_all(fd);
    int e = errno;
    close(fd);
    errno = e;
    return text;
}

static int table_path(char* buf, size_t len, const char* dir) {
    if (!dir || !*dir) {
        errno = ENOENT;
        return -1;
    }
    if ((size_t)snprintf(buf, len, "%s/domains", dir) >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

static int parse_proc(const char* s, struct xsim_proc* p) {
    char role;
    int pid;
    unsigned long long start;
    if (sscanf(s, "%c:%d:%llu", &role, &pid, &start) != 3)
        return -1;
    p->role = role;
    p->pid = pid;
    p->start = start;
    return 0;
}

static int parse_handle(const char* s, uint8_t h[16]) {
    if (strlen(s) != 32)
        return -1;
    for (int i = 0; i < 16; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        h[i] = (uint8_t)v;
    }
    return 0;
}

static int push_orphan(struct xsim_table* t, const struct xsim_proc* p) {
    struct xsim_proc* n = realloc(t->orphans, (t->norphans + 1) * sizeof *n);
    if (!n)
        return -1;
    t->orphans = n;
    t->orphans[t->norphans++] = *p;
    return 0;
}

static int parse_dom(char* line, struct xsim_dom* d) {
    memset(d, 0, sizeof *d);
    d->target = XSIM_NO_TARGET;
    char* save = NULL;
    char* tok = strtok_r(line, " \n", &save); /* "dom" */
    tok = strtok_r(NULL, " \n", &save);
    if (!tok)
        return -1;
    d->domid = (uint32_t)strtoul(tok, NULL, 10);
    while ((tok = strtok_r(NULL, " \n", &save))) {
        char* eq = strchr(tok, '=');
        if (!eq)
            return -1;
        *eq = '\0';
        const char* v = eq + 1;
        if (!strcmp(tok, "name"))
            snprintf(d->name, sizeof d->name, "%s", v);
        else if (!strcmp(tok, "flags"))
            d->flags = (unsigned)strtoul(v, NULL, 16);
        else if (!strcmp(tok, "reason"))
            d->shutdown_reason = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(tok, "target"))
            d->target = strcmp(v, "-") ? (uint32_t)strtoul(v, NULL, 10) : XSIM_NO_TARGET;
        else if (!strcmp(tok, "mem_kib"))
            d->mem_kib = strtoull(v, NULL, 10);
        else if (!strcmp(tok, "maxmem_kib"))
            d->maxmem_kib = strtoull(v, NULL, 10);
        else if (!strcmp(tok, "vcpus"))
            d->vcpus = (unsigned)strtoul(v, NULL, 10);
        else if (!strcmp(tok, "handle")) {
            if (parse_handle(v, d->handle))
                return -1;
        } else if (!strcmp(tok, "procs") && strcmp(v, "-")) {
            char* psave = NULL;
            char* copy = strdup(v);
            if (!copy)
                return -1;
            for (char* p = strtok_r(copy, ",", &psave); p && d->nprocs < XSIM_PIDS_MAX;
                 p = strtok_r(NULL, ",", &psave))
                if (!parse_proc(p, &d->procs[d->nprocs]))
                    d->nprocs++;
            free(copy);
        }
    }
    return 0;
}

static int parse(struct xsim_table* t, char* text) {
    char* save = NULL;
    char* line = strtok_r(text, "\n", &save);
    if (!line || strcmp(line, MAGIC)) {
        errno = EPROTO;
        return -1;
    }
    size_t cap = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        if (!strncmp(line, "host ", 5)) {
            unsigned long long gen = 0, next = 0, total = 0;
            if (sscanf(line, "host gen=%llu next_domid=%llu total_kib=%llu", &gen, &next, &total) !=
                3) {
                errno = EPROTO;
                return -1;
            }
            t->gen = gen;
            t->next_domid = (uint32_t)next;
            t->total_kib = total;
        } else if (!strncmp(line, "dom ", 4)) {
            if (t->ndoms == cap) {
                cap = cap ? cap * 2 : 16;
                struct xsim_dom* n = realloc(t->doms, cap * sizeof *n);
                if (!n)
                    return -1;
                t->doms = n;
            }
            if (parse_dom(line, &t->doms[t->ndoms])) {
                errno = EPROTO;
                return -1;
            }
            t->ndoms++;
        } else if (!strncmp(line, "orphan ", 7)) {
            struct xsim_proc p;
            if (!parse_proc(line + 7, &p) && push_orphan(t, &p))
                return -1;
        }
    }
    return 0;
}

static char* read_all(int fd) {
    size_t cap = 4096, len = 0;
    char* buf = malloc(cap);
    if (!buf)
        return NULL;
    for (;;) {
        if (len + 1 >= cap) {
            char* n = realloc(buf, cap *= 2);
            if (!n) {
                free(buf);
                return NULL;
            }
            buf = n;
        }
        ssize_t r = pread(fd, buf + len, cap - len - 1, (off_t)len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            return NULL;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    buf[len] = '\0';
    return buf;
}

int xsim_table_open(struct xsim_table* t, const char* dir, int exclusive) {
    memset(t, 0, sizeof *t);
    t->fd = take_lock(dir, exclusive);
    if (t->fd < 0)
        return -1;
    t->exclusive = exclusive;
    t->dir = strdup(dir);
    char* text = t->dir ? read_table(dir) : NULL;
    if (!text || parse(t, text)) {
        int e = errno;
        free(text);
        xsim_table_close(t);
        errno = e;
        return -1;
    }
    free(text);
    return 0;
}

static void write_proc(FILE* f, const struct xsim_proc* p) {
    fprintf(f, "%c:%d:%llu", p->role, (int)p->pid, p->start);
}

/* The table as text (malloc'd), NULL on failure. */
static char* format_table(const struct xsim_table* t, size_t* lenp) {
    char* buf = NULL;
    size_t len = 0;
    FILE* f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fprintf(f, "%s\nhost gen=%" PRIu64 " next_domid=%" PRIu32 " total_kib=%" PRIu64 "\n", MAGIC,
            t->gen, t->next_domid, t->total_kib);
    for (size_t i = 0; i < t->ndoms; i++) {
        const struct xsim_dom* d = &t->doms[i];
        fprintf(f, "dom %" PRIu32 " name=%s flags=0x%x reason=%u target=", d->domid, d->name,
                d->flags, d->shutdown_reason);
        if (d->target == XSIM_NO_TARGET)
            fputc('-', f);
        else
            fprintf(f, "%" PRIu32, d->target);
        fprintf(f, " mem_kib=%" PRIu64 " maxmem_kib=%" PRIu64 " vcpus=%u handle=", d->mem_kib,
                d->maxmem_kib, d->vcpus);
        for (int k = 0; k < 16; k++)
            fprintf(f, "%02x", d->handle[k]);
        fputs(" procs=", f);
        if (!d->nprocs)
            fputc('-', f);
        for (int k = 0; k < d->nprocs; k++) {
            if (k)
                fputc(',', f);
            write_proc(f, &d->procs[k]);
        }
        fputc('\n', f);
    }
    for (size_t i = 0; i < t->norphans; i++) {
        fputs("orphan ", f);
        write_proc(f, &t->orphans[i]);
        fputc('\n', f);
    }
    if (fclose(f)) {
        free(buf);
        return NULL;
    }
    *lenp = len;
    return buf;
}

/* Writes the table into a new file `path` (which must not exist). */
static int write_new(const char* path, const struct xsim_table* t) {
    size_t len = 0;
    char* buf = format_table(t, &len);
    if (!buf)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    int rc = fd < 0 ? -1 : 0;
    for (size_t off = 0; rc == 0 && off < len;) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = -1;
        else
            off += (size_t)w;
    }
    int e = errno;
    if (fd >= 0 && close(fd) < 0 && rc == 0) {
        e = errno;
        rc = -1;
    }
    free(buf);
    if (rc < 0 && fd >= 0)
        unlink(path);
    errno = e;
    return rc;
}

static int temp_path(char* buf, size_t len, const char* dir) {
    char path[4096];
    if (table_path(path, sizeof path, dir))
        return -1;
    if ((size_t)snprintf(buf, len, "%s.new.%d", path, (int)getpid()) >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    unlink(buf); /* left by a process of this pid that was killed while writing */
    return 0;
}

int xsim_table_commit(struct xsim_table* t) {
    if (!t->exclusive || !t->dir) {
        errno = EPERM;
        return -1;
    }
    char path[4096], tmp[4200];
    if (table_path(path, sizeof path, t->dir) || temp_path(tmp, sizeof tmp, t->dir))
        return -1;
    t->gen++;
    /* The new table is complete before it replaces the old one: whenever the writer
     * dies, readers find one or the other, never a part. */
    if (write_new(tmp, t))
        return -1;
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

void xsim_table_close(struct xsim_table* t) {
    if (t->fd >= 0)
        close(t->fd); /* drops the flock */
    free(t->dir);
    free(t->doms);
    free(t->orphans);
    memset(t, 0, sizeof *t);
    t->fd = -1;
}

int xsim_table_create(const char* dir, uint64_t total_kib, uint64_t dom0_kib, unsigned dom0_vcpus) {
    char path[4096], tmp[4200], lock[4200];
    if (table_path(path, sizeof path, dir) || temp_path(tmp, sizeof tmp, dir) ||
        lock_path(lock, sizeof lock, dir))
        return -1;
    /* The lock first: whoever sees the table can lock it. */
    int lockfd = open(lock, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (lockfd < 0)
        return -1;
    close(lockfd);
    struct xsim_table t;
    memset(&t, 0, sizeof t);
    t.fd = -1;
    if (getrandom(&t.gen, sizeof t.gen, 0) != (ssize_t)sizeof t.gen)
        t.gen = (uint64_t)time(NULL) << 20 ^ (uint64_t)getpid();
    t.next_domid = 1;
    t.total_kib = total_kib;
    struct xsim_dom dom0;
    memset(&dom0, 0, sizeof dom0);
    snprintf(dom0.name, sizeof dom0.name, "Domain-0");
    dom0.target = XSIM_NO_TARGET;
    dom0.mem_kib = dom0.maxmem_kib = dom0_kib;
    dom0.vcpus = dom0_vcpus ? dom0_vcpus : 1;
    t.doms = &dom0;
    t.ndoms = 1;
    int rc = write_new(tmp, &t);
    /* link() publishes the complete file at once and refuses an existing table. */
    if (rc == 0)
        rc = link(tmp, path);
    int e = errno;
    unlink(tmp);
    errno = e;
    return rc;
}

size_t xsim_table_lower_bound(const struct xsim_table* t, uint32_t first) {
    size_t lo = 0, hi = t->ndoms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->doms[mid].domid < first)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct xsim_dom* xsim_table_find(struct xsim_table* t, uint32_t domid) {
    size_t i = xsim_table_lower_bound(t, domid);
    return i < t->ndoms && t->doms[i].domid == domid ? &t->doms[i] : NULL;
}

struct xsim_dom* xsim_table_find_name(struct xsim_table* t, const char* name) {
    for (size_t i = 0; i < t->ndoms; i++)
        if (!strcmp(t->doms[i].name, name))
            return &t->doms[i];
    return NULL;
}

static int valid_name(const char* name) {
    size_t n = strlen(name);
    if (n == 0 || n >= XSIM_NAME_MAX)
        return 0;
    for (const char* p = name; *p; p++)
        if (isspace((unsigned char)*p) || *p == ',')
            return 0;
    return 1;
}

struct xsim_dom* xsim_table_add(struct xsim_table* t, const char* name) {
    if (!valid_name(name)) {
        errno = EINVAL;
        return NULL;
    }
    if (xsim_table_find_name(t, name)) {
        errno = EEXIST;
        return NULL;
    }
    /* DOMID_FIRST_RESERVED is 0x7FF0; wrap like Xen, skipping domids in use. */
    uint32_t domid = t->next_domid;
    for (unsigned tries = 0; xsim_table_find(t, domid); tries++) {
        if (tries > 0x7ff0) {
            errno = ENOSPC;
            return NULL;
        }
        domid = domid + 1 >= 0x7ff0 ? 1 : domid + 1;
    }
    struct xsim_dom* n = realloc(t->doms, (t->ndoms + 1) * sizeof *n);
    if (!n)
        return NULL;
    t->doms = n;
    size_t at = xsim_table_lower_bound(t, domid);
    memmove(&t->doms[at + 1], &t->doms[at], (t->ndoms - at) * sizeof *n);
    t->ndoms++;
    struct xsim_dom* d = &t->doms[at];
    memset(d, 0, sizeof *d);
    d->domid = domid;
    snprintf(d->name, sizeof d->name, "%s", name);
    d->target = XSIM_NO_TARGET;
    d->vcpus = 1;
    t->next_domid = domid + 1 >= 0x7ff0 ? 1 : domid + 1;
    return d;
}

void xsim_table_remove(struct xsim_table* t, uint32_t domid) {
    struct xsim_dom* d = xsim_table_find(t, domid);
    if (!d)
        return;
    for (int i = 0; i < d->nprocs; i++)
        if (d->procs[i].role == 'm' && xsim_proc_start(d->procs[i].pid) == d->procs[i].start)
            push_orphan(t, &d->procs[i]);
    size_t at = (size_t)(d - t->doms);
    memmove(&t->doms[at], &t->doms[at + 1], (t->ndoms - at - 1) * sizeof *d);
    t->ndoms--;
}

uint64_t xsim_table_used_kib(const struct xsim_table* t) {
    uint64_t used = 0;
    for (size_t i = 0; i < t->ndoms; i++)
        used += t->doms[i].mem_kib;
    return used;
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
    d->procs[d->nprocs++] = (struct xsim_proc){pid, start, role};
    return 0;
}

/* The generation in the header, read without parsing the rest. */
static int read_gen(int fd, uint64_t* gen) {
    char buf[128];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    unsigned long long g;
    if (sscanf(buf, MAGIC "\nhost gen=%llu", &g) != 1)
        return -1;
    *gen = g;
    return 0;
}

const struct xsim_table* xsim_table_cached(struct xsim_table_cache* c, const char* dir) {
    char path[4096];
    if (table_path(path, sizeof path, dir))
        return NULL;
    int lock = take_lock(dir, 0);
    if (lock < 0)
        return NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        close(lock);
        errno = e;
        return NULL;
    }
    uint64_t gen;
    if (c->valid && read_gen(fd, &gen) == 0 && gen == c->t.gen) {
        close(fd);
        close(lock);
        return &c->t;
    }
    struct xsim_table fresh;
    memset(&fresh, 0, sizeof fresh);
    char* text = read_all(fd);
    int failed = !text || parse(&fresh, text);
    int e = errno;
    close(fd);
    close(lock);
    free(text);
    if (failed) {
        free(fresh.doms);
        free(fresh.orphans);
        errno = e;
        return NULL;
    }
    xsim_table_cache_free(c);
    fresh.fd = -1;
    c->t = fresh;
    c->valid = 1;
    return &c->t;
}

void xsim_table_cache_free(struct xsim_table_cache* c) {
    if (c->valid) {
        free(c->t.doms);
        free(c->t.orphans);
    }
    memset(c, 0, sizeof *c);
}
