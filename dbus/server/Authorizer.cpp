#include "dbus/server/Authorizer.hpp"

#include "core/Log.hpp"
#include "dbus/Names.hpp"

#include <sdbus-c++/Message.h>
#include <sdbus-c++/Types.h>

#include <map>

namespace stubdomd::dbus {

namespace {

// org.freedesktop.PolicyKit1.Authority.CheckAuthorization flags.
constexpr std::uint32_t kPolkitNoInteraction = 0;

Error denied(const std::string& why) {
    return Error(ErrorCode::AccessDenied, why);
}

} // namespace

Caller currentCaller(const sdbus::IObject& object) {
    Caller caller;
    const sdbus::Message* message = object.getCurrentlyProcessedMessage();
    if (!message)
        return caller;
    try {
        caller.sender = message->getSender();
        caller.uid = message->getCredsUid();
    } catch (const sdbus::Error& e) {
        logWarning({},
                   "cannot tell who called " + message->getMemberName() + ": " + e.getMessage());
    }
    return caller;
}

Authorizer::Authorizer(sdbus::IConnection& connection, std::chrono::milliseconds timeout)
    // By reference: this proxy shares the daemon's connection and loop (the overloads
    // without a connection would start a thread of their own).
    : polkit_(sdbus::createProxy(connection, kPolkitBusName, kPolkitPath)), timeout_(timeout) {}

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

    using Subject = sdbus::Struct<std::string, std::map<std::string, sdbus::Variant>>;
    using Result = sdbus::Struct<bool, bool, std::map<std::string, std::string>>;
    const Subject subject{"system-bus-name", {{"name", sdbus::Variant(caller.sender)}}};
    const std::map<std::string, std::string> details;
    // sdbus-c++ 1.2.0 does not tell whether the caller allowed interactive
    // authorization, so never ask polkit to prompt (a rule or an active session decides).
    const std::uint32_t flags = kPolkitNoInteraction;
    const std::string method = "CheckAuthorization";

    auto onReply = [action, decide](const sdbus::Error* error, const Result& result) {
        // Runs from sdbus's dispatch: nothing but sdbus::Error may escape, and
        // `decide` must still be called exactly once.
        std::optional<Error> verdict;
        try {
            if (error) {
                logWarning({}, "polkit cannot decide on " + action + " (" + error->getName() +
                                   ": " + error->getMessage() + "); only root is allowed");
                verdict = denied("not authorized for " + action +
                                 ": polkit is not available to authorize a non-root caller (" +
                                 error->getName() + ")");
            } else if (!std::get<0>(result)) {
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
    };

    try {
        polkit_->callMethodAsync(method)
            .onInterface(kPolkitInterface)
            .withTimeout(std::chrono::duration_cast<std::chrono::microseconds>(timeout_))
            .withArguments(subject, action, details, flags, std::string())
            .uponReplyInvoke(std::move(onReply));
    } catch (const sdbus::Error& e) {
        decide(
            denied("not authorized for " + action + ": cannot ask polkit (" + e.getName() + ")"));
    }
}

} // namespace stubdomd::dbus
