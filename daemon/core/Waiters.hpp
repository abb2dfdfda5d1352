// Who waits for a guest's stub domain to start or to stop (the pending replies of Start,
// Restart, Attach and Stop), and whether a Restart starts the guest again once its stop
// is done — by guest domid. Commands add the waiters; whoever ends the wait answers them:
// the spawn pipeline (running, failed, stopped while xl worked), the stop itself, and the
// teardown (the guest is gone).
#pragma once

#include "GuestService.hpp"
#include "Types.hpp"

#include <map>
#include <optional>
#include <vector>

namespace stubdomd {

class Waiters {
public:
    Waiters() = default;
    Waiters(const Waiters&) = delete;
    Waiters& operator=(const Waiters&) = delete;

    void waitForStart(DomId guest, Completion done);
    void waitForStop(DomId guest, Completion done);
    // Each waiter is answered once, with `error` or success; one may start the next wait.
    void started(DomId guest, const std::optional<Error>& error);
    void stopped(DomId guest, const std::optional<Error>& error);
    // A Restart: once the guest is stopped, it is started again.
    void startAfterStop(DomId guest, bool wanted);
    // Whether a Restart asked for a start after this stop (asked once).
    bool takeStartAfterStop(DomId guest);
    // The guest is gone: nothing of it is kept (its waiters were answered before).
    void forget(DomId guest) { waiting_.erase(guest); }

private:
    struct Waiting {
        std::vector<Completion> start;
        std::vector<Completion> stop;
        bool startAfterStop = false;
    };
    void answer(DomId guest, std::vector<Completion> Waiting::*which,
                const std::optional<Error>& error);

    std::map<DomId, Waiting> waiting_; // by guest domid
};

} // namespace stubdomd
