// Writes a whole buffer to an fd, as one write() may write only part of it.
#pragma once

#include <cstddef>

namespace stubdomd {

// Retries after EINTR and short writes. False, with errno from the failed write, when a
// write fails or writes nothing. Only system calls: safe in a forked child too.
bool writeAll(int fd, const void* data, std::size_t size);

} // namespace stubdomd
