#include "core/ConsoleFollower.hpp"

#include "core/Errors.hpp"
#include "core/Log.hpp"
#include "core/XenPaths.hpp"

namespace stubdomd {

namespace {
LogFields stubFields(DomId stub) {
    return {"", std::nullopt, stub, ""};
}
} // namespace

std::optional<std::string> ConsoleFollower::follow(const std::string& guestName, DomId stub) {
    if (!logs_ || pending_.count(stub))
        return std::nullopt;
    const std::string log = logOf(guestName);
    pending_[stub].log = log;
    try {
        // xenconsoled publishes the tty as xl creates the domain, so it is usually there
        // already: read first, and watch only when it is not (two requests, not four).
        if (readTty(stub))
            return log;
        pending_[stub].watch = store_.watch(paths::consoleTty(stub),
                                            [this, stub](const std::string&) { readTty(stub); });
    } catch (const Error& e) {
        pending_.erase(stub);
        logWarning(stubFields(stub),
                   std::string("cannot watch the stub domain's console: ") + e.what());
        return std::nullopt;
    }
    return log;
}

bool ConsoleFollower::readTty(DomId stub) {
    auto pending = pending_.find(stub);
    if (pending == pending_.end())
        return false;
    const auto path = ttyOf(stub);
    if (!path)
        return false; // xenconsoled has not made the pty yet
    const std::string log = pending->second.log;
    stop(stub);
    logs_->follow(stub, *path, log);
    return true;
}

std::optional<std::string> ConsoleFollower::ttyOf(DomId stub) {
    auto path = valueOrLoggedRefusal(probe_.readTrusted(paths::consoleTty(stub)), stubFields(stub));
    if (path && path->empty())
        return std::nullopt;
    return path;
}

void ConsoleFollower::stop(DomId stub) {
    if (!logs_)
        return;
    auto pending = pending_.find(stub);
    if (pending != pending_.end()) {
        const Store::WatchId id = pending->second.watch;
        pending_.erase(pending);
        try {
            if (id) // none while the first read runs
                store_.unwatch(id);
        } catch (const Error& e) {
            logWarning(stubFields(stub), std::string("removing the console watch: ") + e.what());
        }
    }
    logs_->stop(stub);
}

} // namespace stubdomd
