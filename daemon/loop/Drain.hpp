// The one read loop over a non-blocking fd that the loop's fd callbacks share (a child's
// output, a stub domain's console): read until the fd would block, ends, or the reader
// has had enough.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

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

// The two halves of a relay's bounded buffer (OpenDisplay's sockets, OpenConsole's PTYs).
// fillBuffer reads what `fd` (O_NONBLOCK) has into `buffer` until it holds `bound` bytes;
// false on EOF or an error. flushBuffer writes what `fd` takes of `buffer`, dropping what
// was written; false when its reader is gone. On a socket it sends with MSG_NOSIGNAL (a peer
// that left is an error, not SIGPIPE), else it writes.
bool fillBuffer(int fd, std::vector<char>& buffer, std::size_t bound);
bool flushBuffer(int fd, std::vector<char>& buffer);

} // namespace stubdomd
