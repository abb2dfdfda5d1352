// The authorization gate: reading is open; each mutating method names a polkit action
// (dbus/Names.hpp) and runs only if its caller is uid 0 or polkit says yes. Polkit is
// asked over D-Bus, asynchronously, on the daemon's own connection, so the loop never
// blocks on it. Fails closed: no polkit, no answer or an error → only uid 0 passes.
#pragma once

#include "core/Errors.hpp"
#include "dbus/server/SdBusHandles.hpp"

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <list>
#include <optional>
#include <string>

namespace stubdomd::dbus {

struct Caller {
    std::string sender;       // unique bus name, the polkit subject
    std::optional<uid_t> uid; // nullopt: the bus could not tell (treated as not root)
    // The call carried ALLOW_INTERACTIVE_AUTHORIZATION: polkit may ask the user (through
    // their polkit agent) rather than answer no.
    bool interactive = false;
};

// The caller of the method call `call`. Asks the bus daemon for the uid (one short
// synchronous round trip).
Caller currentCaller(sd_bus_message* call);

class Authorizer {
public:
    // nullopt: allowed; otherwise the AccessDenied error to answer with.
    using Decision = std::function<void(const std::optional<Error>& denied)>;

    // Polkit calls time out after `timeout` (shorter than a client's default 25 s,
    // so the caller gets our AccessDenied rather than its own timeout). `bus` must
    // outlive the Authorizer.
    explicit Authorizer(sd_bus* bus, std::chrono::milliseconds timeout = std::chrono::seconds(20));
    ~Authorizer();
    Authorizer(const Authorizer&) = delete;
    Authorizer& operator=(const Authorizer&) = delete;

    // Calls `decide` exactly once, from the loop: at once for uid 0, otherwise when
    // polkit answers. If the Authorizer is destroyed first, `decide` is never called
    // (the pending polkit calls are dropped with it).
    void check(const Caller& caller, const std::string& action, Decision decide);

private:
    struct Pending {
        Authorizer* owner;
        std::string action;
        Decision decide;
        SdSlot slot; // the call's callback: unreferencing it drops the call
    };
    static int answered(sd_bus_message* reply, void* userdata, sd_bus_error* error);
    void decideOn(std::list<Pending>::iterator pending, sd_bus_message* reply);

    sd_bus* bus_;
    std::chrono::milliseconds timeout_;
    std::list<Pending> pending_; // a list: the callbacks hold pointers to the entries
};

} // namespace stubdomd::dbus
