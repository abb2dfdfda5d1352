// What every exported object's handlers need: the core's facades, the authorization
// gate and the pending-reply registry. Owned by DbusServer, which outlives the objects.
#pragma once

#include "core/GuestService.hpp"
#include "core/HelperService.hpp"
#include "core/PvGrubService.hpp"
#include "dbus/server/Authorizer.hpp"
#include "dbus/server/ErrorMapping.hpp"
#include "dbus/server/PendingReplies.hpp"
#include "dbus/server/ResourceWatchers.hpp"

namespace stubdomd::dbus {

struct ServerContext {
    GuestService& guests;
    HelperService* helpers; // null: no helper supervisor
    Authorizer& authorizer;
    PendingReplies& replies;
    PvGrubService* pvgrub = nullptr;       // null: PvGrubConfig and PvGrubCheck are NotSupported
    ResourceWatchers* resources = nullptr; // null: WatchResources is NotSupported
};

// Runs `act` once the caller of `call` may do `action`; if not, or if `act` throws,
// answers `reply` with the error instead. `act` may run after the object called is
// gone, so it must capture what it needs by value (a uuid, a service pointer), never
// the object.
template <typename Reply, typename Act>
void authorizeThen(ServerContext& context, sd_bus_message* call, const char* action,
                   const Reply& reply, Act act) {
    context.authorizer.check(currentCaller(call), action,
                             [reply, act = std::move(act)](const std::optional<Error>& denied) {
                                 if (denied) {
                                     reply.fail(*denied);
                                     return;
                                 }
                                 try {
                                     act();
                                 } catch (...) {
                                     reply.fail(currentExceptionAsDbusError());
                                 }
                             });
}

} // namespace stubdomd::dbus
