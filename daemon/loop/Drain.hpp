// The one read loop over a non-blocking fd that the loop's fd callbacks share (a child's
// output, a stub domain's console): read until the fd would block, ends, or the reader
// has had enough.
#pragma once

#include <cstddef>
#include <functional>

namespace stubdomd {

enum class DrainEnd {
    WouldBlock, // everything there was is read: poll() wakes us for more
    Ended,      // end of file or a read error (EIO once a pty's other side closed)
    Refused,    // onData returned false: the reader stops (e.g. its own write failed)
    Budget,     // maxReads reads done and more may wait: poll() says so next turn
};

// Hands each chunk read from `fd` (O_NONBLOCK) to onData; EINTR is retried. maxReads
// bounds the reads of one call (0: no bound), so a chatty fd cannot starve the loop.
DrainEnd drainNonBlocking(int fd, const std::function<bool(const char*, std::size_t)>& onData,
                          unsigned maxReads = 0);

} // namespace stubdomd
