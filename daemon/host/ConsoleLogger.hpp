// Copies stub domains' console ptys (xenconsoled's) into their device-model logs, on the
// event loop: the ConsoleLogs of the core (core/ConsoleLogs.hpp).
#pragma once

#include "core/ConsoleLogs.hpp"
#include "loop/EventLoop.hpp"
#include "loop/UniqueFd.hpp"

#include <map>

namespace stubdomd {

class ConsoleLogger final : public ConsoleLogs {
public:
    explicit ConsoleLogger(EventLoop& loop) : loop_(loop) {}
    ~ConsoleLogger() override;
    ConsoleLogger(const ConsoleLogger&) = delete;
    ConsoleLogger& operator=(const ConsoleLogger&) = delete;

    // Only a pty under /dev/pts/ is opened (O_NOCTTY, put in raw mode so nothing read is
    // echoed back into the stub's console); the log is opened O_APPEND, mode 0644 as
    // libxl makes it, its directory made when missing, and never through a symlink.
    void follow(DomId stub, const std::string& tty, const std::string& logPath) override;
    void stop(DomId stub) override;

private:
    struct Copy {
        UniqueFd tty;
        UniqueFd log;
        std::string logPath;
    };
    void drain(DomId stub, short revents);

    EventLoop& loop_;
    std::map<DomId, Copy> copies_;
};

} // namespace stubdomd
