#include "host/ConsoleBridge.hpp"

#include "core/Errors.hpp"
#include "loop/Drain.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include <vector>

namespace stubdomd {

struct ConsoleBridge::Link {
    std::string key;
    UniqueFd output;  // what the console prints (a log follower)
    UniqueFd slave;   // the PTY's slave; the client holds the master
    UniqueFd console; // xenconsoled's pty of the stub: typed bytes go there; its hang-up ends us
    bool writable = false;
    std::vector<char> toClient, toConsole;
};

namespace {

void makeRaw(int fd) {
    termios mode{};
    if (::tcgetattr(fd, &mode) == 0) {
        ::cfmakeraw(&mode);
        ::tcsetattr(fd, TCSANOW, &mode);
    }
}

} // namespace

ConsoleBridge::~ConsoleBridge() {
    for (auto& [key, link] : links_) {
        loop_.removeFd(link->output.get());
        loop_.removeFd(link->slave.get());
        loop_.removeFd(link->console.get());
    }
}

unsigned ConsoleBridge::links(const std::string& key) const {
    return static_cast<unsigned>(links_.count(key));
}

ConsoleLinks::Opened ConsoleBridge::open(const std::string& key, int output,
                                         const std::string& consoleTty, bool writable) {
    auto link = std::make_shared<Link>();
    link->key = key;
    link->output.reset(output);
    link->writable = writable;
    if (links(key) >= kMaxLinks)
        throw Error(ErrorCode::Busy,
                    "the guest has " + std::to_string(kMaxLinks) + " consoles open already");
    // Only a pty is opened: the path comes from a dom0-owned node, but a pty is all
    // xenconsoled publishes.
    if (consoleTty.rfind("/dev/pts/", 0) != 0 || consoleTty.find("/..") != std::string::npos)
        throw Error(ErrorCode::InvalidState, "the stub's console '" + consoleTty + "' is no pty");
    link->console.reset(::open(consoleTty.c_str(), O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
    struct stat st {};
    if (!link->console || ::fstat(link->console.get(), &st) != 0 || !S_ISCHR(st.st_mode))
        throw Error(ErrorCode::InvalidState, "cannot open the stub's console " + consoleTty + ": " +
                                                 std::strerror(link->console ? ENOTTY : errno));
    UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master || ::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0)
        throw Error(ErrorCode::Busy, std::string("cannot make a pty: ") + std::strerror(errno));
    char name[128];
    if (::ptsname_r(master.get(), name, sizeof name) != 0)
        throw Error(ErrorCode::Busy, std::string("cannot name the pty: ") + std::strerror(errno));
    link->slave.reset(::open(name, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
    if (!link->slave)
        throw Error(ErrorCode::Busy,
                    std::string("cannot open ") + name + ": " + std::strerror(errno));
    // Raw: what the console prints reaches the client's terminal unchanged, and what the
    // client types reaches the guest unchanged, not echoed by the PTY on the way.
    makeRaw(link->slave.get());
    ::fcntl(link->output.get(), F_SETFL, ::fcntl(link->output.get(), F_GETFL) | O_NONBLOCK);

    links_.emplace(key, link);
    std::weak_ptr<Link> weak = link;
    auto callback = [this, weak](short revents) {
        if (auto l = weak.lock())
            pump(l, revents & (POLLHUP | POLLERR | POLLNVAL));
    };
    loop_.addFd(link->output.get(), POLLIN, callback);
    loop_.addFd(link->slave.get(), POLLIN, callback);
    // Nothing asked while nothing is to be written: poll() reports its hang-up regardless.
    loop_.addFd(link->console.get(), 0, callback);
    return {master.release(), name};
}

// Moves what can move, then waits for what lets more move. A hang-up on any of the three
// ends the bridge once what could be read was read: the slave's when the client closed the
// master, the console's when xenconsoled let go of the stub's pty.
void ConsoleBridge::pump(const std::shared_ptr<Link>& link, short hangups) {
    bool ok = fillBuffer(link->output.get(), link->toClient, kBufferBytes) &&
              fillBuffer(link->slave.get(), link->toConsole, kBufferBytes) &&
              flushBuffer(link->slave.get(), link->toClient);
    if (ok && !link->writable)
        link->toConsole.clear(); // read-only: typed bytes go nowhere
    ok = ok && flushBuffer(link->console.get(), link->toConsole);
    pollfd console{link->console.get(), 0, 0};
    if (!ok || hangups || (::poll(&console, 1, 0) > 0 && console.revents)) {
        end(link);
        return;
    }
    const bool clientRoom = link->toClient.size() < kBufferBytes;
    const bool consoleRoom = link->toConsole.size() < kBufferBytes;
    loop_.modifyFd(link->output.get(), clientRoom ? POLLIN : 0);
    loop_.modifyFd(link->slave.get(), static_cast<short>((consoleRoom ? POLLIN : 0) |
                                                         (link->toClient.empty() ? 0 : POLLOUT)));
    loop_.modifyFd(link->console.get(), link->toConsole.empty() ? 0 : POLLOUT);
}

void ConsoleBridge::end(const std::shared_ptr<Link>& link) {
    loop_.removeFd(link->output.get());
    loop_.removeFd(link->slave.get());
    loop_.removeFd(link->console.get());
    for (auto [it, last] = links_.equal_range(link->key); it != last; ++it)
        if (it->second == link) {
            links_.erase(it);
            break;
        }
    link->output.reset();
    link->slave.reset();
    link->console.reset();
}

} // namespace stubdomd
