/* Without -D, xenstored reads dom0's xenstore event channel from /proc/xen/xsd_port
 * and maps dom0's ring from /proc/xen/xsd_kva. Those two opens are answered with
 * memfds; every other open goes straight to the kernel. */
/* open and open64 are defined here under their own names; with 64-bit file offsets
 * glibc's headers would rename open to open64. */
#undef _FILE_OFFSET_BITS
#include "shim.h"

#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define XSD_PORT "/proc/xen/xsd_port"
#define XSD_KVA "/proc/xen/xsd_kva"
/* Any valid port will do: the shim's interdomain binds never fire. */
#define DOM0_XENSTORE_PORT "1"

static int memfd_with(const char* name, const char* text, size_t size) {
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if ((text && write(fd, text, strlen(text)) != (ssize_t)strlen(text)) ||
        (size && ftruncate(fd, (off_t)size) < 0) || lseek(fd, 0, SEEK_SET) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int special(const char* path) {
    if (!strcmp(path, XSD_PORT))
        return memfd_with("xsd_port", DOM0_XENSTORE_PORT, 0);
    if (!strcmp(path, XSD_KVA))
        return memfd_with("xsd_kva", NULL, (size_t)getpagesize());
    return -2;
}

static mode_t mode_arg(int flags, va_list ap) {
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

static int sys_openat(int dirfd, const char* path, int flags, mode_t mode) {
    return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

XSIM_EXPORT int open(const char* path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    int fd = special(path);
    return fd != -2 ? fd : sys_openat(AT_FDCWD, path, flags, mode);
}

XSIM_EXPORT int open64(const char* path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    int fd = special(path);
    return fd != -2 ? fd : sys_openat(AT_FDCWD, path, flags | O_LARGEFILE, mode);
}

XSIM_EXPORT int openat(int dirfd, const char* path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    int fd = path[0] == '/' ? special(path) : -2;
    return fd != -2 ? fd : sys_openat(dirfd, path, flags, mode);
}
