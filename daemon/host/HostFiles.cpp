#include "host/HostFiles.hpp"

#include "core/Errors.hpp"
#include "host/WriteAll.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

namespace stubdomd {

namespace {
[[noreturn]] void fail(const std::string& what, const std::string& path) {
    throw Error(ErrorCode::Internal, what + " " + path + ": " + std::strerror(errno));
}
} // namespace

void ensureDirectory(const std::string& path, unsigned mode) {
    for (std::size_t pos = path.find('/', 1); pos != std::string::npos;
         pos = path.find('/', pos + 1)) {
        std::string parent = path.substr(0, pos);
        if (::mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST)
            fail("cannot create directory", parent);
    }
    if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
        fail("cannot create directory", path);
}

void writeFileAtomically(const std::string& path, const std::string& content, unsigned mode) {
    std::string temporary = path + ".tmp";
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        fail("cannot write", temporary);
    if (::fchmod(fd, mode) != 0) {
        int saved = errno;
        ::close(fd);
        errno = saved;
        fail("cannot set the mode of", temporary);
    }
    if (!writeAll(fd, content.data(), content.size())) {
        int saved = errno;
        ::close(fd);
        errno = saved;
        fail("cannot write", temporary);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0)
        fail("cannot write", temporary);
    if (::rename(temporary.c_str(), path.c_str()) != 0)
        fail("cannot rename into", path);
}

std::string processName(long pid) {
    if (pid <= 0)
        return "";
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    std::getline(comm, name);
    return name;
}

} // namespace stubdomd
