// Reading a small configuration file whole, telling "missing" apart from "unreadable",
// and the bounded read loop it shares with the files PV-GRUB callers name.
// Header-only so that both the settings loader and the xen adapters (stub-domain
// configs) can use it without linking each other.
#pragma once

#include "core/Errors.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace stubdomd {

// Configuration files are a few hundred bytes; the cap only keeps a wrong path (a disk
// image, /dev/zero) from being read into memory.
inline constexpr std::size_t kMaxConfigFileSize = 1024 * 1024;

// The rest of what `fd` reads, which must be at most `maxSize` bytes: a file may grow
// after its size was checked. A read error or more than `maxSize` bytes throws
// Error(InvalidConfig, "cannot read <path>: <reason>"); `path` only names the file.
inline std::string readBounded(int fd, std::size_t maxSize, const std::string& path) {
    auto fail = [&path](const std::string& why) {
        throw Error(ErrorCode::InvalidConfig, "cannot read " + path + ": " + why);
    };
    std::string text;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail(std::strerror(errno));
        }
        if (n == 0)
            break;
        text.append(buffer, static_cast<std::size_t>(n));
        if (text.size() > maxSize)
            fail("larger than " + std::to_string(maxSize) + " bytes");
    }
    return text;
}

// The file's content; nullopt when it does not exist (ENOENT). Any other failure, a
// non-regular file (directory, FIFO, device) or a file over `maxSize` throws
// Error(InvalidConfig, "cannot read <path>: <reason>").
inline std::optional<std::string> readTextFile(const std::string& path,
                                               std::size_t maxSize = kMaxConfigFileSize) {
    auto fail = [&path](const std::string& why) {
        throw Error(ErrorCode::InvalidConfig, "cannot read " + path + ": " + why);
    };
    // O_NONBLOCK: a FIFO named by mistake must not hang the daemon.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT)
            return std::nullopt;
        fail(std::strerror(errno));
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};

    struct stat info {};
    if (::fstat(fd, &info) != 0)
        fail(std::strerror(errno));
    if (!S_ISREG(info.st_mode))
        fail("not a regular file");
    if (static_cast<std::uint64_t>(info.st_size) > maxSize)
        fail("larger than " + std::to_string(maxSize) + " bytes");

    return readBounded(fd, maxSize, path);
}

} // namespace stubdomd
