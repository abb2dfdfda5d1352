#include "host/ConsoleLogger.hpp"

#include "core/Errors.hpp"
#include "core/Log.hpp"
#include "host/HostFiles.hpp"
#include "host/WriteAll.hpp"
#include "loop/Drain.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>

namespace stubdomd {

namespace {

LogFields stubFields(DomId stub) {
    return {"", std::nullopt, stub, ""};
}

std::string directoryOf(const std::string& path) {
    const auto slash = path.rfind('/');
    return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

} // namespace

ConsoleLogger::ConsoleLogger(EventLoop& loop, std::uint64_t maxBytes)
    : loop_(loop), half_(std::max(maxBytes, kConsoleLogMinMaxBytes) / 2) {}

ConsoleLogger::~ConsoleLogger() {
    for (const auto& [stub, copy] : copies_)
        loop_.removeFd(copy.tty.get());
    for (const auto& [log, follower] : followers_)
        loop_.removeFd(follower.get());
}

void ConsoleLogger::follow(DomId stub, const std::string& tty, const std::string& logPath) {
    stop(stub);
    if (tty.rfind("/dev/pts/", 0) != 0 || tty.find("/..") != std::string::npos) {
        logWarning(stubFields(stub), "not logging the console: '" + tty + "' is not a pty");
        return;
    }
    Copy copy;
    copy.logPath = logPath;
    copy.tty.reset(::open(tty.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
    struct stat st {};
    if (!copy.tty || ::fstat(copy.tty.get(), &st) != 0 || !S_ISCHR(st.st_mode)) {
        logWarning(stubFields(stub), "not logging the console: cannot open " + tty + ": " +
                                         std::strerror(copy.tty ? ENOTTY : errno));
        return;
    }
    // xenconsoled makes its ptys raw; made sure here, since an echo would go back to the
    // stub as console input.
    termios mode{};
    if (::tcgetattr(copy.tty.get(), &mode) == 0) {
        ::cfmakeraw(&mode);
        ::tcsetattr(copy.tty.get(), TCSANOW, &mode);
    }
    const std::string dir = directoryOf(logPath);
    try {
        ensureDirectory(dir, 0755);
    } catch (const Error& e) {
        refuse(stub, dir, e.what());
        return;
    }
    copy.log.reset(
        ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644));
    struct stat logStat {};
    if (!copy.log || ::fstat(copy.log.get(), &logStat) != 0) {
        refuse(stub, dir, "cannot open " + logPath + ": " + std::strerror(errno));
        return;
    }
    if (refusedDir_ == dir)
        refusedDir_.clear();
    copy.size = static_cast<std::uint64_t>(logStat.st_size);
    // A log left by a run without the cap (or with a larger one) is brought under it now.
    struct stat oldStat {};
    if (::lstat((logPath + ".1").c_str(), &oldStat) == 0 &&
        static_cast<std::uint64_t>(oldStat.st_size) > half_)
        ::unlink((logPath + ".1").c_str());
    if (copy.size >= half_ && !rotate(copy)) {
        refuse(stub, dir, "cannot rotate " + logPath + ": " + std::strerror(errno));
        return;
    }
    const int fd = copy.tty.get();
    copies_[stub] = std::move(copy);
    loop_.addFd(fd, POLLIN, [this, stub](short revents) { drain(stub, revents); });
    logInfo(stubFields(stub), "logging the stub domain's console " + tty + " to " + logPath);
}

void ConsoleLogger::stop(DomId stub) {
    auto it = copies_.find(stub);
    if (it == copies_.end())
        return;
    loop_.removeFd(it->second.tty.get());
    copies_.erase(it);
}

void ConsoleLogger::drain(DomId stub, short /*revents*/) {
    auto it = copies_.find(stub);
    if (it == copies_.end())
        return;
    Copy& copy = it->second;
    // A bounded number of reads per wake-up, so a chatty stub cannot starve the loop; if
    // more is waiting, poll() says so again on the next turn of the loop.
    const DrainEnd end = drainNonBlocking(
        copy.tty.get(),
        [&](const char* data, std::size_t n) {
            if (append(copy, data, n))
                return true;
            logWarning(stubFields(stub), "writing " + copy.logPath + ": " + std::strerror(errno) +
                                             "; no longer logging the console");
            return false;
        },
        16);
    // Ended: EOF or EIO (with POLLHUP), xenconsoled closed the pty, the stub domain is gone.
    if (end == DrainEnd::Ended || end == DrainEnd::Refused)
        stop(stub);
}

// Writes what fits in the current file, rotates, writes the rest: each file stays within
// half the cap, so the log and its `.1` never hold more than the cap together.
bool ConsoleLogger::append(Copy& copy, const char* data, std::size_t size) {
    while (size > 0) {
        if (copy.size >= half_ && !rotate(copy))
            return false;
        const std::size_t part =
            static_cast<std::size_t>(std::min<std::uint64_t>(size, half_ - copy.size));
        if (!writeAll(copy.log.get(), data, part))
            return false;
        feed(copy.logPath, data, part);
        copy.size += part;
        data += part;
        size -= part;
    }
    return true;
}

// The log becomes `.1` (an older `.1` goes), and a new one is started, as logrotate's
// `rotate 1` would; rename() replaces a symlink at `.1` rather than following it.
bool ConsoleLogger::rotate(Copy& copy) {
    if (::rename(copy.logPath.c_str(), (copy.logPath + ".1").c_str()) != 0)
        return false;
    UniqueFd fresh(::open(copy.logPath.c_str(),
                          O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fresh)
        return false;
    copy.log = std::move(fresh);
    copy.size = 0;
    return true;
}

void ConsoleLogger::feed(const std::string& logPath, const char* data, std::size_t size) {
    auto [it, end] = followers_.equal_range(logPath);
    while (it != end) {
        const ssize_t n = ::send(it->second.get(), data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n == static_cast<ssize_t>(size)) {
            ++it;
        } else {
            loop_.removeFd(it->second.get());
            it = followers_.erase(it); // gone, or behind by a socket buffer: cut off
        }
    }
}

int ConsoleLogger::openFollower(const std::string& logPath) {
    // Readers that left are noticed here too, not only on the next write.
    auto [it, end] = followers_.equal_range(logPath);
    std::size_t living = 0;
    while (it != end) {
        pollfd p{it->second.get(), 0, 0};
        if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR))) {
            loop_.removeFd(it->second.get());
            it = followers_.erase(it);
        } else {
            ++living;
            ++it;
        }
    }
    if (living >= kMaxFollowers) {
        errno = EBUSY;
        return -1;
    }
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
        return -1;
    UniqueFd ours(pair[0]);
    ::shutdown(pair[0], SHUT_RD);
    ::shutdown(pair[1], SHUT_WR);
    // Room for bursts (a stub's boot prints tens of KiB at once).
    const int buffer = 256 * 1024;
    ::setsockopt(pair[0], SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    // A reader that leaves is let go of at once (its hang-up), not at the log's next write:
    // a console that prints nothing for hours must not hold every reader that came and went.
    const int fd = ours.get();
    loop_.addFd(fd, 0, [this, fd](short) {
        loop_.removeFd(fd);
        for (auto it = followers_.begin(); it != followers_.end(); ++it)
            if (it->second.get() == fd) {
                followers_.erase(it);
                break;
            }
    });
    followers_.emplace(logPath, std::move(ours));
    return pair[1];
}

void ConsoleLogger::refuse(DomId stub, const std::string& dir, const std::string& why) {
    if (refusedDir_ == dir) {
        logDebug(stubFields(stub), "not logging the console: " + why);
        return;
    }
    refusedDir_ = dir;
    logWarning(stubFields(stub), "not logging the console: " + why + " (said once for " + dir +
                                     ", until a log opens there)");
}

} // namespace stubdomd
