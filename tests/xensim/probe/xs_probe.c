/* xs-probe: libxenstore checks that the stock command-line clients cannot make, run by
 * the xensim tests against the real xenstored of a simulated host.
 *   xs-probe transaction PATH VALUE     a write in a transaction is invisible to another
 *                                       connection until commit, visible after
 *   xs-probe conflict PATH              a transaction whose read was overtaken fails
 *                                       with EAGAIN, as libxl's retry loops expect
 *   xs-probe watch PATH COUNT TIMEOUT_MS  print "ready", then each event's path, until
 *                                       COUNT events (exit 0) or the timeout (exit 1)
 *   xs-probe introduced DOMID           prints yes/no (XS_IS_DOMAIN_INTRODUCED)
 *   xs-probe mkdir PATH                 XS_MKDIR (no stock client makes a bare directory)
 *   xs-probe set-target DOMID TARGET    XS_SET_TARGET, as the toolstack links a stub
 *   xs-probe repeat read|write PATH COUNT  COUNT requests of one kind on one connection,
 *                                       so that a benchmark can divide xenstored's CPU by
 *                                       them without a connection's setup in each */
#include <xenstore.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failed(const char* what) {
    fprintf(stderr, "xs-probe: %s: %s\n", what, strerror(errno));
    return 1;
}

static int check(int ok, const char* what) {
    if (!ok)
        fprintf(stderr, "xs-probe: check failed: %s\n", what);
    return ok ? 0 : 1;
}

static char* read_node(struct xs_handle* h, xs_transaction_t t, const char* path) {
    unsigned len;
    return xs_read(h, t, path, &len);
}

static int transaction(struct xs_handle* a, struct xs_handle* b, const char* path,
                       const char* value) {
    xs_transaction_t t = xs_transaction_start(a);
    if (t == XBT_NULL)
        return failed("xs_transaction_start");
    if (!xs_write(a, t, path, value, (unsigned)strlen(value)))
        return failed("xs_write in transaction");
    char* inside = read_node(a, t, path);
    char* outside = read_node(b, XBT_NULL, path);
    int rc = check(inside && !strcmp(inside, value), "transaction sees its own write") |
             check(!outside || strcmp(outside, value), "others do not see it before commit");
    free(inside);
    free(outside);
    if (!xs_transaction_end(a, t, false))
        return failed("xs_transaction_end");
    char* after = read_node(b, XBT_NULL, path);
    rc |= check(after && !strcmp(after, value), "others see it after commit");
    free(after);
    return rc;
}

static int conflict(struct xs_handle* a, struct xs_handle* b, const char* path) {
    if (!xs_write(a, XBT_NULL, path, "before", 6))
        return failed("xs_write");
    xs_transaction_t t = xs_transaction_start(a);
    if (t == XBT_NULL)
        return failed("xs_transaction_start");
    free(read_node(a, t, path));
    if (!xs_write(b, XBT_NULL, path, "overtaken", 9))
        return failed("xs_write from the other connection");
    if (!xs_write(a, t, path, "mine", 4))
        return failed("xs_write in transaction");
    bool ok = xs_transaction_end(a, t, false);
    int rc = check(!ok && errno == EAGAIN, "commit fails with EAGAIN");
    char* now = read_node(b, XBT_NULL, path);
    rc |= check(now && !strcmp(now, "overtaken"), "the losing transaction left no trace");
    free(now);
    return rc;
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int watch(struct xs_handle* h, const char* path, int count, int timeout_ms) {
    if (!xs_watch(h, path, "xs-probe"))
        return failed("xs_watch");
    printf("ready\n");
    fflush(stdout);
    long long deadline = now_ms() + timeout_ms;
    int seen = 0;
    while (seen < count) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return 1;
        struct pollfd p = {xs_fileno(h), POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        char** ev;
        while (seen < count && (ev = xs_check_watch(h))) {
            printf("%s\n", ev[XS_WATCH_PATH]);
            fflush(stdout);
            free(ev);
            seen++;
        }
    }
    return 0;
}

static int repeat(struct xs_handle* h, const char* kind, const char* path, int count) {
    int write = !strcmp(kind, "write");
    if (!write && strcmp(kind, "read"))
        return 2;
    char value[24];
    for (int i = 0; i < count; i++) {
        snprintf(value, sizeof value, "%d", i);
        if (write && !xs_write(h, XBT_NULL, path, value, (unsigned)strlen(value)))
            return failed("xs_write");
        char* got = write ? NULL : read_node(h, XBT_NULL, path);
        if (!write && !got)
            return failed("xs_read");
        free(got);
    }
    return 0;
}

int main(int argc, char** argv) {
    struct xs_handle* a = xs_open(0);
    struct xs_handle* b = xs_open(0);
    if (!a || !b)
        return failed("xs_open");
    int rc = 2;
    if (argc == 4 && !strcmp(argv[1], "transaction"))
        rc = transaction(a, b, argv[2], argv[3]);
    else if (argc == 3 && !strcmp(argv[1], "conflict"))
        rc = conflict(a, b, argv[2]);
    else if (argc == 5 && !strcmp(argv[1], "watch"))
        rc = watch(a, argv[2], atoi(argv[3]), atoi(argv[4]));
    else if (argc == 3 && !strcmp(argv[1], "introduced"))
        rc = printf("%s\n", xs_is_domain_introduced(a, (unsigned)atoi(argv[2])) ? "yes" : "no") < 0;
    else if (argc == 3 && !strcmp(argv[1], "mkdir"))
        rc = xs_mkdir(a, XBT_NULL, argv[2]) ? 0 : failed("xs_mkdir");
    else if (argc == 4 && !strcmp(argv[1], "set-target"))
        rc = xs_set_target(a, (unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]))
                 ? 0
                 : failed("xs_set_target");
    else if (argc == 5 && !strcmp(argv[1], "repeat"))
        rc = repeat(a, argv[2], argv[3], atoi(argv[4]));
    if (rc == 2)
        fprintf(stderr, "usage: xs-probe transaction PATH VALUE | conflict PATH |\n"
                        "       watch PATH COUNT TIMEOUT_MS | introduced DOMID | mkdir PATH |\n"
                        "       set-target DOMID TARGET | repeat read|write PATH COUNT\n");
    xs_close(a);
    xs_close(b);
    return rc;
}
