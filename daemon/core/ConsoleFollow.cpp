// A stub domain's console 0 into <log dir>/qemu-dm-<guest>.log, as libxl logs it: once
// xenconsoled publishes the stub's pty at console/tty (a dom0-owned node; a path the stub
// could write is never opened), the ConsoleLogs adapter copies it into the log.
#include "core/GuestManagerInternal.hpp"

#include "core/ConsoleTail.hpp"
#include "core/XenPaths.hpp"

namespace stubdomd {

using namespace internal;

void GuestManager::followConsole(Guest& guest, DomId stub) {
    if (!consoleLogs_ || consoleWatches_.count(stub))
        return;
    consoleWatches_[stub].log = settings_.logDir + "/qemu-dm-" + guest.view.name + ".log";
    // The log is appended to: a failure quotes only what this stub printed.
    guest.consoleLogFrom = fileSize(consoleWatches_[stub].log);
    try {
        // A watch fires once when set: a tty published already is read at once.
        consoleWatches_[stub].watch = deps_.store.watch(
            paths::consoleTty(stub), [this, stub](const std::string&) { readConsoleTty(stub); });
    } catch (const Error& e) {
        consoleWatches_.erase(stub);
        logWarning({"", std::nullopt, stub, ""},
                   std::string("cannot watch the stub domain's console: ") + e.what());
    }
}

void GuestManager::readConsoleTty(DomId stub) {
    auto watch = consoleWatches_.find(stub);
    if (watch == consoleWatches_.end())
        return;
    const auto path = valueOrLoggedRefusal(probe_.readTrusted(paths::consoleTty(stub)),
                                           {"", std::nullopt, stub, ""});
    if (!path || path->empty())
        return; // xenconsoled has not made the pty yet
    const std::string log = watch->second.log;
    stopConsole(stub);
    consoleLogs_->follow(stub, *path, log);
}

// Ends the watch for the tty and the copying, whichever is going on.
void GuestManager::stopConsole(DomId stub) {
    if (!consoleLogs_)
        return;
    auto watch = consoleWatches_.find(stub);
    if (watch != consoleWatches_.end()) {
        const Store::WatchId id = watch->second.watch;
        consoleWatches_.erase(watch);
        try {
            deps_.store.unwatch(id);
        } catch (const Error& e) {
            logWarning({"", std::nullopt, stub, ""},
                       std::string("removing the console watch: ") + e.what());
        }
    }
    consoleLogs_->stop(stub);
}

} // namespace stubdomd
