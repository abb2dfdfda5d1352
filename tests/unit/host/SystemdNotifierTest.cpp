// sd_notify as systemd receives it: READY with the status, STATUS lines, STOPPING, and a
// watchdog that keeps pinging from the loop at half the interval systemd asked for.
#include "host/SystemdNotifier.hpp"

#include "config/TempDir.hpp"
#include "loop/UniqueFd.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

using namespace stubdomd;
using namespace std::chrono_literals;
using stubdomd::test::TempDir;

namespace {

// A datagram socket standing in for systemd's notify socket, named in NOTIFY_SOCKET for the
// test's lifetime (and WATCHDOG_USEC/PID when asked).
class NotifySocket {
public:
    explicit NotifySocket(const std::string& dir, std::optional<std::string> watchdogUsec = {}) {
        const std::string path = dir + "/notify";
        fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        REQUIRE(fd_);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        REQUIRE(path.size() < sizeof addr.sun_path);
        std::strcpy(addr.sun_path, path.c_str());
        REQUIRE(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
        if (watchdogUsec) {
            ::setenv("WATCHDOG_USEC", watchdogUsec->c_str(), 1);
            ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
        }
    }
    ~NotifySocket() {
        ::unsetenv("NOTIFY_SOCKET");
        ::unsetenv("WATCHDOG_USEC");
        ::unsetenv("WATCHDOG_PID");
    }
    // The next message, or "" when none is waiting.
    std::string next() {
        char buffer[512];
        const ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
        return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "";
    }

private:
    UniqueFd fd_;
};

} // namespace

TEST_CASE("ready, status and stopping reach the notify socket", "[host][systemd]") {
    TempDir dir;
    NotifySocket systemd(dir.path());
    EventLoop loop;
    SystemdNotifier notifier(loop);
    notifier.ready("0 guests");
    CHECK(systemd.next() == "READY=1\nSTATUS=0 guests");
    notifier.status("2 guests, 1 running");
    CHECK(systemd.next() == "STATUS=2 guests, 1 running");
    notifier.stopping();
    CHECK(systemd.next() == "STOPPING=1");
    CHECK(systemd.next().empty());
}

TEST_CASE("the watchdog is fed from the loop, again and again", "[host][systemd]") {
    TempDir dir;
    NotifySocket systemd(dir.path(), "20000"); // 20 ms: a ping every 10 ms
    EventLoop loop;
    SystemdNotifier notifier(loop);
    notifier.startWatchdog();
    CHECK(systemd.next() == "WATCHDOG=1");
    // Each further ping only comes from the loop's timer; the loop turns until two arrived.
    int pings = 0;
    while (pings < 2) {
        auto tick = loop.after(5ms, [&loop] { loop.stop(); });
        loop.run();
        loop.cancel(tick);
        for (std::string m = systemd.next(); !m.empty(); m = systemd.next()) {
            CHECK(m == "WATCHDOG=1");
            ++pings;
        }
    }
    CHECK(pings >= 2);
}

TEST_CASE("without a watchdog asked for, none is fed", "[host][systemd]") {
    TempDir dir;
    NotifySocket systemd(dir.path());
    EventLoop loop;
    SystemdNotifier notifier(loop);
    // The first ping is sent from startWatchdog itself, so its absence shows at once.
    notifier.startWatchdog();
    CHECK(systemd.next().empty());
}
