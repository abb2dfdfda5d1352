#include "pvgrub/CallerFile.hpp"

#include "core/Errors.hpp"
#include "host/TextFile.hpp"

#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace stubdomd::pvgrub {

namespace {

[[noreturn]] void cannotRead(const std::string& path, const std::string& why) {
    throw Error(ErrorCode::InvalidConfig, "cannot read " + path + ": " + why);
}

// Where the descriptor really leads, links resolved.
std::string openedPath(int fd) {
    char buffer[PATH_MAX];
    const std::string link = "/proc/self/fd/" + std::to_string(fd);
    const ssize_t n = ::readlink(link.c_str(), buffer, sizeof buffer - 1);
    if (n <= 0)
        return {};
    return std::string(buffer, static_cast<std::size_t>(n));
}

bool everyoneMayReach(const std::string& file) {
    if (file.empty() || file.front() != '/')
        return false;
    std::string dir = file.substr(0, file.rfind('/'));
    for (;;) {
        struct stat info {};
        if (::stat(dir.empty() ? "/" : dir.c_str(), &info) != 0 || !(info.st_mode & S_IXOTH))
            return false;
        if (dir.empty())
            return true;
        dir = dir.substr(0, dir.rfind('/'));
    }
}

} // namespace

CallerFile::CallerFile(const std::string& path, bool callerIsRoot) : path_(path) {
    // O_NONBLOCK: a FIFO named by mistake (or on purpose) must not hang the daemon.
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd_ < 0)
        cannotRead(path, std::strerror(errno));
    struct stat info {};
    if (::fstat(fd_, &info) != 0) {
        const int error = errno;
        ::close(fd_);
        cannotRead(path, std::strerror(error));
    }
    if (!S_ISREG(info.st_mode)) {
        ::close(fd_);
        cannotRead(path, "not a regular file");
    }
    if (!callerIsRoot && !((info.st_mode & S_IROTH) && everyoneMayReach(openedPath(fd_)))) {
        ::close(fd_);
        throw Error(ErrorCode::AccessDenied,
                    "cannot read " + path +
                        " for you: stubdomd reads as root, so callers other than root may "
                        "name only files everyone may read");
    }
    size_ = static_cast<std::uint64_t>(info.st_size);
}

CallerFile::~CallerFile() {
    if (fd_ >= 0)
        ::close(fd_);
}

std::string CallerFile::readAll(std::size_t maxSize) {
    if (size_ > maxSize)
        cannotRead(path_, "larger than " + std::to_string(maxSize) + " bytes");
    return readBounded(fd_, maxSize, path_);
}

} // namespace stubdomd::pvgrub
