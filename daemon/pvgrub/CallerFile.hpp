// A file a D-Bus caller named, opened by the daemon, which runs as root. A caller other
// than root may name only files it could read itself: world-readable, in directories
// everyone may search (checked on the file actually opened, so swapping a link after
// the check changes nothing). Only regular files are opened, without blocking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace stubdomd::pvgrub {

class CallerFile {
public:
    // Throws Error(InvalidConfig, "cannot read PATH: <why>") for a missing, unreadable or
    // non-regular file, Error(AccessDenied) for a file the caller could not read.
    CallerFile(const std::string& path, bool callerIsRoot);
    ~CallerFile();
    CallerFile(const CallerFile&) = delete;
    CallerFile& operator=(const CallerFile&) = delete;

    int fd() const { return fd_; }
    std::uint64_t size() const { return size_; }
    // The whole file; Error(InvalidConfig) when it is larger than maxSize.
    std::string readAll(std::size_t maxSize);

private:
    std::string path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
};

} // namespace stubdomd::pvgrub
