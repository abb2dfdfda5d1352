#include "host/ConsoleLogger.hpp"

#include "core/Errors.hpp"
#include "core/Log.hpp"
#include "host/HostFiles.hpp"
#include "host/WriteAll.hpp"
#include "loop/Drain.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
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

ConsoleLogger::~ConsoleLogger() {
    for (const auto& [stub, copy] : copies_)
        loop_.removeFd(copy.tty.get());
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
    try {
        ensureDirectory(directoryOf(logPath), 0755);
    } catch (const Error& e) {
        logWarning(stubFields(stub), std::string("not logging the console: ") + e.what());
        return;
    }
    copy.log.reset(
        ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!copy.log) {
        logWarning(stubFields(stub),
                   "not logging the console: cannot open " + logPath + ": " + std::strerror(errno));
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
            if (writeAll(copy.log.get(), data, n))
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

} // namespace stubdomd
