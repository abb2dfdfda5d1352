#include "faults.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int read_trimmed(const char* path, char* value, size_t len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[512];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0)
        n = 0;
    buf[n] = '\0';
    char* s = buf;
    while (isspace((unsigned char)*s))
        s++;
    char* e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    if (value && len)
        snprintf(value, len, "%s", s);
    return 1;
}

int xsim_fault(const char* dir, const char* name, const char* domname, char* value, size_t len) {
    char path[4096];
    if (value && len)
        value[0] = '\0';
    if (!dir)
        return 0;
    if (domname) {
        snprintf(path, sizeof path, "%s/faults/%s@%s", dir, name, domname);
        if (read_trimmed(path, value, len))
            return 1;
    }
    snprintf(path, sizeof path, "%s/faults/%s", dir, name);
    return read_trimmed(path, value, len);
}

static long long number_or(const char* s, long long dflt) {
    char* end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    return (errno || end == s || *end) ? dflt : v;
}

long long xsim_fault_number(const char* dir, const char* name, const char* domname,
                            long long dflt) {
    char value[128];
    if (!xsim_fault(dir, name, domname, value, sizeof value))
        return dflt;
    return number_or(value, dflt);
}

long long xsim_setting(const char* dir, const char* name, long long dflt) {
    char path[4096], value[128];
    if (!dir)
        return dflt;
    snprintf(path, sizeof path, "%s/settings/%s", dir, name);
    if (!read_trimmed(path, value, sizeof value))
        return dflt;
    return number_or(value, dflt);
}
