/* realxen-link S G: link stub domain S to HVM guest G the way the toolstack does
 * (DESIGN.md section 4, "Spawn" step 4), so that stage 1 of the realxen test can
 * prove the protocol with plain xl before stubdomd exists.
 *
 *   xc_domain_set_target(S, G), xs_set_target(S, G),
 *   /local/domain/S/target = G, /local/domain/G/image/device-model-domid = S,
 *   mkdir /local/domain/S/device-model/G          (owner S, G read)
 *   mkdir /local/domain/0/device-model/G          (owner 0, G read/write)
 *   /vm/U/image/dmargs = "-d G"                   (owner 0, S read), if /vm/U exists
 *
 * realxen-link --perms PATH prints the permissions of PATH (xenstore-ls -p style).
 * Runs inside the realxen dom0 only; exit status 0 on success, 1 with a message. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>
#include <xenstore.h>

static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("realxen-link: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static int write_key(struct xs_handle *xs, const char *path, const char *value)
{
    if (!xs_write(xs, XBT_NULL, path, value, (unsigned int)strlen(value)))
        return fail("xs_write %s: %m", path);
    return 0;
}

static int mkdir_perms(struct xs_handle *xs, const char *path, struct xs_permissions *p,
                       unsigned int n)
{
    if (!xs_mkdir(xs, XBT_NULL, path))
        return fail("xs_mkdir %s: %m", path);
    if (!xs_set_permissions(xs, XBT_NULL, path, p, n))
        return fail("xs_set_permissions %s: %m", path);
    return 0;
}

static int print_perms(const char *path)
{
    struct xs_handle *xs = xs_open(0);
    if (!xs)
        return fail("xs_open: %m");
    unsigned int n = 0;
    struct xs_permissions *p = xs_get_permissions(xs, XBT_NULL, path, &n);
    if (!p) {
        xs_close(xs);
        return fail("xs_get_permissions %s: %m", path);
    }
    printf("%s:", path);
    for (unsigned int i = 0; i < n; i++) {
        const char *k = "n";
        if ((p[i].perms & XS_PERM_READ) && (p[i].perms & XS_PERM_WRITE))
            k = "b";
        else if (p[i].perms & XS_PERM_READ)
            k = "r";
        else if (p[i].perms & XS_PERM_WRITE)
            k = "w";
        printf(" %s%u", k, p[i].id);
    }
    printf("\n");
    free(p);
    xs_close(xs);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--perms") == 0)
        return print_perms(argv[2]);
    if (argc != 3)
        return fail("usage: realxen-link STUB_DOMID GUEST_DOMID | --perms PATH");
    unsigned int s = (unsigned int)strtoul(argv[1], NULL, 10);
    unsigned int g = (unsigned int)strtoul(argv[2], NULL, 10);
    if (s == 0 || g == 0 || s == g)
        return fail("bad domids '%s' '%s'", argv[1], argv[2]);

    xc_interface *xch = xc_interface_open(NULL, NULL, 0);
    if (!xch)
        return fail("xc_interface_open: %m");
    if (xc_domain_set_target(xch, s, g) != 0) {
        int rc = fail("xc_domain_set_target(%u, %u): %m", s, g);
        xc_interface_close(xch);
        return rc;
    }
    xc_interface_close(xch);

    struct xs_handle *xs = xs_open(0);
    if (!xs)
        return fail("xs_open: %m");
    int rc = 0;
    char path[256], val[64];
    if (!xs_set_target(xs, s, g))
        rc = fail("xs_set_target(%u, %u): %m", s, g);

    snprintf(path, sizeof path, "/local/domain/%u/target", s);
    snprintf(val, sizeof val, "%u", g);
    rc = rc ? rc : write_key(xs, path, val);

    snprintf(path, sizeof path, "/local/domain/%u/image/device-model-domid", g);
    snprintf(val, sizeof val, "%u", s);
    rc = rc ? rc : write_key(xs, path, val);

    struct xs_permissions own[2] = {{.id = s, .perms = XS_PERM_NONE},
                                    {.id = g, .perms = XS_PERM_READ}};
    snprintf(path, sizeof path, "/local/domain/%u/device-model/%u", s, g);
    rc = rc ? rc : mkdir_perms(xs, path, own, 2);

    struct xs_permissions legacy[2] = {{.id = 0, .perms = XS_PERM_NONE},
                                       {.id = g, .perms = XS_PERM_READ | XS_PERM_WRITE}};
    snprintf(path, sizeof path, "/local/domain/0/device-model/%u", g);
    rc = rc ? rc : mkdir_perms(xs, path, legacy, 2);

    snprintf(path, sizeof path, "/local/domain/%u/vm", g);
    char *vm = rc ? NULL : xs_read(xs, XBT_NULL, path, NULL);
    if (vm) {
        struct xs_permissions ro[2] = {{.id = 0, .perms = XS_PERM_NONE},
                                       {.id = s, .perms = XS_PERM_READ}};
        snprintf(path, sizeof path, "%s/image/dmargs", vm);
        snprintf(val, sizeof val, "-d %u", g);
        rc = write_key(xs, path, val);
        if (!rc && !xs_set_permissions(xs, XBT_NULL, path, ro, 2))
            rc = fail("xs_set_permissions %s: %m", path);
        free(vm);
    }
    xs_close(xs);
    if (!rc)
        printf("realxen-link: stub %u linked to guest %u\n", s, g);
    return rc;
}
