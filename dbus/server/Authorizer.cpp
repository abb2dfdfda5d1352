#include "dbus/server/Authorizer.hpp"

#include "core/Log.hpp"
#include "dbus/Names.hpp"
#include "dbus/server/Marshal.hpp"

#include <cstring>

namespace stubdomd::dbus {

namespace {

// org.freedesktop.PolicyKit1.Authority.CheckAuthorization flags.
constexpr std::uint32_t kPolkitNoInteraction = 0;
constexpr std::uint32_t kPolkitAllowUserInteraction = 1;

Error denied(const std::string& why) {
    return Error(ErrorCode::AccessDenied, why);
}

} // namespace

Caller currentCaller(sd_bus_message* call) {
    Caller caller;
    if (!call)
        return caller;
    if (const char* sender = sd_bus_message_get_sender(call))
        caller.sender = sender;
    caller.interactive = sd_bus_message_get_allow_interactive_authorization(call) > 0;
    sd_bus_creds* raw = nullptr;
    // What sdbus-c++'s getCredsUid asked: the uid, augmented from /proc if the bus did
    // not send it.
    int r = sd_bus_query_sender_creds(call, SD_BUS_CREDS_UID | SD_BUS_CREDS_AUGMENT, &raw);
    SdCreds creds(raw);
    uid_t uid = 0;
    if (r >= 0)
        r = sd_bus_creds_get_uid(creds.get(), &uid);
    if (r >= 0) {
        caller.uid = uid;
    } else {
        const char* member = sd_bus_message_get_member(call);
        logWarning({}, std::string("cannot tell who called ") + (member ? member : "?") + ": " +
                           std::strerror(-r));
    }
    return caller;
}

Authorizer::Authorizer(sd_bus* bus, std::chrono::milliseconds timeout)
    : bus_(bus), timeout_(timeout) {}

// The slots go with pending_, and with them the calls' callbacks: no decision is made.
Authorizer::~Authorizer() = default;

void Authorizer::check(const Caller& caller, const std::string& action, Decision decide) {
    if (caller.uid && *caller.uid == 0) {
        decide(std::nullopt);
        return;
    }
    if (caller.sender.empty()) {
        decide(denied("not authorized for " + action + ": the caller is unknown"));
        return;
    }
    try {
        sd_bus_message* raw = nullptr;
        checked(sd_bus_message_new_method_call(bus_, &raw, kPolkitBusName, kPolkitPath,
                                               kPolkitInterface, "CheckAuthorization"),
                "creating a polkit call");
        SdMessage call(raw);
        // Subject (sa{sv}), action, details a{ss}, flags, cancellation id. Polkit may
        // prompt only a caller that allowed it (DESIGN.md section 5: otherwise auth_admin
        // actions could never pass for a non-root user); sdbus-c++ did not show the flag.
        checked(sd_bus_message_append(
                    call.get(), "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s",
                    caller.sender.c_str(), action.c_str(), 0,
                    caller.interactive ? kPolkitAllowUserInteraction : kPolkitNoInteraction, ""),
                "writing a polkit call");
        auto pending = pending_.insert(pending_.end(), Pending{this, action, decide, nullptr});
        sd_bus_slot* slot = nullptr;
        const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(timeout_);
        int r = sd_bus_call_async(bus_, &slot, call.get(), &Authorizer::answered, &*pending,
                                  static_cast<uint64_t>(usec.count()));
        if (r < 0) {
            pending_.erase(pending);
            checked(r, "calling polkit");
        }
        pending->slot.reset(slot);
    } catch (const Error& e) {
        decide(denied("not authorized for " + action + ": cannot ask polkit (" + e.what() + ")"));
    }
}

int Authorizer::answered(sd_bus_message* reply, void* userdata, sd_bus_error*) {
    auto* pending = static_cast<Pending*>(userdata);
    Authorizer& self = *pending->owner;
    for (auto it = self.pending_.begin(); it != self.pending_.end(); ++it)
        if (&*it == pending) {
            self.decideOn(it, reply);
            break;
        }
    return 0;
}

// Runs from sd-bus's dispatch: nothing may escape, and the decision is made exactly once.
void Authorizer::decideOn(std::list<Pending>::iterator pending, sd_bus_message* reply) {
    const std::string action = std::move(pending->action);
    Decision decide = std::move(pending->decide);
    // sd-bus holds the slot while it runs this callback, so it may go now.
    pending_.erase(pending);
    std::optional<Error> verdict;
    try {
        if (sd_bus_message_is_method_error(reply, nullptr)) {
            const sd_bus_error* error = sd_bus_message_get_error(reply);
            const std::string name = error && error->name ? error->name : "unknown error";
            const std::string message = error && error->message ? error->message : "";
            logWarning({}, "polkit cannot decide on " + action + " (" + name + ": " + message +
                               "); only root is allowed");
            verdict =
                denied("not authorized for " + action +
                       ": polkit is not available to authorize a non-root caller (" + name + ")");
        } else {
            // (bba{ss}): is_authorized, is_challenge, details.
            int authorized = 0;
            checked(sd_bus_message_enter_container(reply, 'r', "bba{ss}"), "reading polkit");
            checked(sd_bus_message_read_basic(reply, 'b', &authorized), "reading polkit");
            if (!authorized)
                verdict = denied("not authorized for " + action);
        }
    } catch (...) {
        verdict = denied("not authorized for " + action);
    }
    try {
        decide(verdict);
    } catch (...) {
        logError({}, "authorization callback for " + action + " failed");
    }
}

} // namespace stubdomd::dbus
