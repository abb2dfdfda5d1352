#include "loop/Drain.hpp"

#include <sys/socket.h>
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

bool fillBuffer(int fd, std::vector<char>& buffer, std::size_t bound) {
    while (buffer.size() < bound) {
        char chunk[16384];
        const std::size_t room = bound - buffer.size();
        const ssize_t n = ::read(fd, chunk, room < sizeof chunk ? room : sizeof chunk);
        if (n > 0) {
            buffer.insert(buffer.end(), chunk, chunk + n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return true;
        return false;
    }
    return true;
}

bool flushBuffer(int fd, std::vector<char>& buffer) {
    bool socket = true;
    while (!buffer.empty()) {
        ssize_t n = socket ? ::send(fd, buffer.data(), buffer.size(), MSG_NOSIGNAL | MSG_DONTWAIT)
                           : ::write(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == ENOTSOCK && socket) {
            socket = false;
            continue;
        }
        if (n > 0) {
            buffer.erase(buffer.begin(), buffer.begin() + n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return true;
        return false;
    }
    return true;
}

} // namespace stubdomd
