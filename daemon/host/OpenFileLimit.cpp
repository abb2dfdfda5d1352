#include "host/OpenFileLimit.hpp"

#include <cerrno>
#include <sys/resource.h>

namespace stubdomd {

OpenFileLimit raiseOpenFileLimit() {
    OpenFileLimit result;
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) < 0) {
        result.error = errno;
        return result;
    }
    result.before = result.soft = limit.rlim_cur;
    result.hard = limit.rlim_max;
    if (limit.rlim_cur >= limit.rlim_max)
        return result;
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) < 0) {
        result.error = errno;
        return result;
    }
    result.soft = limit.rlim_cur;
    return result;
}

} // namespace stubdomd
