// A stub domain's console 0 into <log dir>/qemu-dm-<guest>.log, as libxl logs it: once
// xenconsoled publishes the stub's pty at console/tty (a dom0-owned node; a path the stub
// could write is never opened), the ConsoleLogs adapter copies it into the log. A
// component of the engine with its own state: the watches of the ttys not published yet.
#pragma once

#include "ConsoleLogs.hpp"
#include "DomainProbe.hpp"
#include "Store.hpp"

#include <map>
#include <optional>
#include <string>

namespace stubdomd {

class ConsoleFollower {
public:
    ConsoleFollower(Store& store, std::string logDir)
        : store_(store), probe_(store), logDir_(std::move(logDir)) {}
    ConsoleFollower(const ConsoleFollower&) = delete;
    ConsoleFollower& operator=(const ConsoleFollower&) = delete;

    // Where consoles are logged; it must outlive the follower. Without it, nothing is.
    void setLogs(ConsoleLogs& logs) { logs_ = &logs; }
    bool logging() const { return logs_ != nullptr; }
    // The log a guest's stub consoles go to, as libxl names it.
    std::string logOf(const std::string& guestName) const {
        return logDir_ + "/qemu-dm-" + guestName + ".log";
    }
    // Watches the stub's console/tty and, once it names a pty, hands it to the logs, and
    // says which log. A stub followed already, or no logs, is left as it is: nullopt.
    std::optional<std::string> follow(const std::string& guestName, DomId stub);
    // ConsoleLogs::openFollower for the guest's log; -1 without logs.
    int openFollower(const std::string& guestName) {
        return logs_ ? logs_->openFollower(logOf(guestName)) : -1;
    }
    // The stub's console pty as xenconsoled published it (a dom0-owned node); nullopt
    // while it is not there (or the node is not trusted).
    std::optional<std::string> ttyOf(DomId stub);
    // Ends the watch for the tty and the copying, whichever is going on.
    void stop(DomId stub);

private:
    // Follows the tty if it is published (and trusted); true then.
    bool readTty(DomId stub);

    struct Pending {
        std::string log;
        Store::WatchId watch = 0;
    };
    Store& store_;
    DomainProbe probe_;
    std::string logDir_;
    ConsoleLogs* logs_ = nullptr;
    std::map<DomId, Pending> pending_; // by stub, until its tty is known
};

} // namespace stubdomd
