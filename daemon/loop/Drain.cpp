#include "loop/Drain.hpp"

#include <unistd.h>

#include <cerrno>

namespace stubdomd {

DrainEnd drainNonBlocking(int fd, const std::function<bool(const char*, std::size_t)>& onData,
                          unsigned maxReads) {
    char buffer[4096];
    for (unsigned reads = 0; maxReads == 0 || reads < maxReads; ++reads) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n > 0) {
            if (!onData(buffer, static_cast<std::size_t>(n)))
                return DrainEnd::Refused;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return DrainEnd::WouldBlock;
        return DrainEnd::Ended;
    }
    return DrainEnd::Budget;
}

} // namespace stubdomd
