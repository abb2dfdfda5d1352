// Writes a whole buffer to an fd, as one write() may write only part of it. The one copy
// of this loop: the atomic file writes, the console logs and the forked child of
// loop/Spawn.cpp use it. Inline and only system calls, so the event loop's spawn code
// can use it without linking the host library (which sits above the loop).
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace stubdomd {

// Retries after EINTR and short writes. False, with errno from the failed write, when a
// write fails or writes nothing. Safe in a forked child too.
inline bool writeAll(int fd, const void* data, std::size_t size) {
    const char* bytes = static_cast<const char*>(data);
    std::size_t done = 0;
    while (done < size) {
        const ssize_t n = ::write(fd, bytes + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

} // namespace stubdomd
