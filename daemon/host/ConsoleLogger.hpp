// Copies stub domains' console ptys (xenconsoled's) into their device-model logs, on the
// event loop: the ConsoleLogs of the core (core/ConsoleLogs.hpp). Each guest's log is
// bounded: a stub that floods its console (or a guest that makes its QEMU do so, the
// XSA-180 case) must not fill dom0's disk.
#pragma once

#include "core/ConsoleLogs.hpp"
#include "loop/EventLoop.hpp"
#include "loop/UniqueFd.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace stubdomd {

class ConsoleLogger final : public ConsoleLogs {
public:
    // `maxBytes` bounds what one guest's log takes on disk, its rotated `.1` included:
    // the log is rotated when it reaches half of it.
    explicit ConsoleLogger(EventLoop& loop, std::uint64_t maxBytes = kConsoleLogDefaultMaxBytes);
    ~ConsoleLogger() override;
    ConsoleLogger(const ConsoleLogger&) = delete;
    ConsoleLogger& operator=(const ConsoleLogger&) = delete;

    // Only a pty under /dev/pts/ is opened (O_NOCTTY, put in raw mode so nothing read is
    // echoed back into the stub's console); the log is opened O_APPEND, mode 0644 as
    // libxl makes it, its directory made when missing, and never through a symlink.
    void follow(DomId stub, const std::string& tty, const std::string& logPath) override;
    void stop(DomId stub) override;
    // One end of a socket pair (shut for writing on the reader's side); what append()
    // writes reaches it with MSG_DONTWAIT | MSG_NOSIGNAL: a reader that fell behind or left
    // is dropped, never waited for, and one that closed its end is let go of at its
    // hang-up. At most kMaxFollowers per log, counting the living.
    int openFollower(const std::string& logPath) override;
    static constexpr std::size_t kMaxFollowers = 16;

private:
    struct Copy {
        UniqueFd tty;
        UniqueFd log;
        std::string logPath;
        std::uint64_t size = 0; // of the current file
    };
    void drain(DomId stub, short revents);
    bool append(Copy& copy, const char* data, std::size_t size);
    bool rotate(Copy& copy);
    // A log that cannot be opened is said once per directory, until one opens there again:
    // on a read-only /var/log every stub start would repeat it.
    void refuse(DomId stub, const std::string& dir, const std::string& why);

    EventLoop& loop_;
    std::uint64_t half_;
    void feed(const std::string& logPath, const char* data, std::size_t size);

    std::map<DomId, Copy> copies_;
    std::multimap<std::string, UniqueFd> followers_; // by log path
    std::string refusedDir_;
};

} // namespace stubdomd
