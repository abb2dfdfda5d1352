/* libxengnttab entry points. xenstored maps each introduced domain's xenstore ring
 * page; a simulated guest never talks on it, so a zeroed anonymous page (an empty
 * ring) is exactly what xenstored should see. */
#include <xengnttab.h>

#include "shim.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

struct xengntdev_handle {
    int unused;
};

XSIM_EXPORT xengnttab_handle* xengnttab_open(struct xentoollog_logger* logger,
                                             unsigned open_flags) {
    (void)logger;
    (void)open_flags;
    return calloc(1, sizeof(xengnttab_handle));
}

XSIM_EXPORT int xengnttab_close(xengnttab_handle* xgt) {
    free(xgt);
    return 0;
}

XSIM_EXPORT int xengnttab_set_max_grants(xengnttab_handle* xgt, uint32_t nr_grants) {
    (void)xgt;
    (void)nr_grants;
    return 0;
}

XSIM_EXPORT void* xengnttab_map_grant_ref(xengnttab_handle* xgt, uint32_t domid, uint32_t ref,
                                          int prot) {
    (void)xgt;
    (void)domid;
    (void)ref;
    void* p = mmap(NULL, (size_t)getpagesize(), prot, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

XSIM_EXPORT int xengnttab_unmap(xengnttab_handle* xgt, void* start_address, uint32_t count) {
    (void)xgt;
    return munmap(start_address, (size_t)count * (size_t)getpagesize());
}
