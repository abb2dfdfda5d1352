#include "dbus/server/DbusServer.hpp"

#include "core/Log.hpp"
#include "dbus/Names.hpp"

#include <poll.h>

namespace stubdomd::dbus {

namespace {

LogFields fieldsOf(const GuestView& guest) {
    LogFields fields;
    fields.guestName = guest.name;
    fields.guestDomid = guest.domid;
    if (guest.stubDomid)
        fields.stubDomid = guest.stubDomid;
    return fields;
}

// Sends one of a guest's signals (a property change, StubFailed, DisplayClientChanged)
// on its exported object. A guest not exported yet gets its complete view with
// guestAdded; a failure to send is logged, never thrown back into the core's notifier.
template <class Emit>
void signalGuest(GuestObjects& objects, const GuestView& guest, const char* what, Emit emit) {
    auto it = objects.find(guest.uuid);
    if (it == objects.end())
        return;
    try {
        emit(*it->second);
    } catch (const std::exception& e) {
        logError(fieldsOf(guest), std::string("cannot signal ") + what + ": " + e.what());
    }
}

} // namespace

DbusServer::DbusServer(EventLoop& loop, GuestService& guests, HelperService* helpers,
                       ServerInfo info, PvGrubService* pvgrub)
    : loop_(loop), guests_(guests), helpers_(helpers),
      // Not createSystemBusConnection(name): that would own the name before any
      // object exists.
      connection_(sdbus::createSystemBusConnection()), authorizer_(*connection_),
      resources_(loop, guests), context_{guests,   helpers, authorizer_,
                                         replies_, pvgrub,  &resources_} {
    manager_ = std::make_unique<ManagerObject>(*connection_, context_, std::move(info),
                                               guestObjects_, guestRows_);

    // Observe first, then take the snapshot: a guest added in between (there is none
    // on a single thread, but the order costs nothing) is not missed.
    guests_.addObserver(*this);
    try {
        for (const GuestView& guest : guests_.guests())
            exportGuest(guest, /*announce=*/false);
        if (helpers_) {
            helpers_->addObserver(*this);
            for (const HelperView& helper : helpers_->helpers())
                helperObjects_.emplace(
                    helper.name, std::make_unique<HelperObject>(*connection_, context_, helper));
        }
        connection_->requestName(kBusName);
    } catch (...) {
        guests_.removeObserver(*this);
        if (helpers_)
            helpers_->removeObserver(*this);
        throw;
    }
}

DbusServer::~DbusServer() {
    guests_.removeObserver(*this);
    if (helpers_)
        helpers_->removeObserver(*this);
    if (busFd_ >= 0) {
        loop_.beforePoll({});
        loop_.removeFd(busFd_);
    }
}

void DbusServer::attachToLoop() {
    if (busFd_ >= 0)
        return;
    auto poll = connection_->getEventLoopPollData();
    busFd_ = poll.fd;
    loop_.addFd(busFd_, poll.events, [this](short) { dispatch(); });
    loop_.beforePoll([this] { return prepareLoop(); });
}

std::string DbusServer::uniqueName() const {
    return connection_->getUniqueName();
}

int DbusServer::prepareLoop() noexcept {
    try {
        // sd-bus wants POLLOUT only while it has something queued, and a timeout for
        // pending method calls (polkit). A timeout of 0 means it has work that poll()
        // would never wake us for: messages it read while waiting for a reply (e.g.
        // during requestName), or an expired call timeout. Do that work now; the
        // bound only guards against a library that keeps asking.
        auto poll = connection_->getEventLoopPollData();
        for (int round = 0; round < 64 && poll.getPollTimeout() == 0; ++round) {
            dispatch();
            poll = connection_->getEventLoopPollData();
        }
        loop_.modifyFd(busFd_, poll.events);
        return poll.getPollTimeout();
    } catch (const std::exception& e) {
        logError({}, std::string("D-Bus connection failed: ") + e.what());
        loop_.stop();
        return 0;
    }
}

void DbusServer::dispatch() noexcept {
    try {
        while (connection_->processPendingRequest()) {
        }
    } catch (const std::exception& e) {
        logError({}, std::string("D-Bus connection failed: ") + e.what());
        loop_.stop();
    }
}

void DbusServer::exportGuest(const GuestView& guest, bool announce) {
    if (guestObjects_.count(guest.uuid)) {
        logWarning(fieldsOf(guest), "guest " + guest.uuid + " announced twice; kept the first");
        return;
    }
    auto object = std::make_unique<GuestObject>(*connection_, context_, guest);
    GuestObject& exported = *object;
    guestObjects_.emplace(guest.uuid, std::move(object));
    guestRows_.add(guest, exported.getObjectPath());
    if (announce) {
        exported.emitInterfacesAddedSignal();
        manager_->emitGuestNew(guest.name, sdbus::ObjectPath(exported.getObjectPath()));
    }
}

// Observer callbacks come from the core on the loop thread; a failure to signal must
// not unwind into the core, so each is contained and logged.
void DbusServer::guestAdded(const GuestView& guest) {
    try {
        exportGuest(guest, /*announce=*/true);
    } catch (const std::exception& e) {
        logError(fieldsOf(guest), std::string("cannot export guest on D-Bus: ") + e.what());
    }
}

void DbusServer::guestChanged(const GuestView& guest, std::uint32_t fields) {
    guestRows_.change(guest, fields);
    signalGuest(guestObjects_, guest, "a guest change",
                [&](GuestObject& object) { object.update(guest, fields); });
}

void DbusServer::stubFailed(const GuestView& guest, const std::string& cause,
                            const std::string& message) {
    signalGuest(guestObjects_, guest, "a stub's failure",
                [&](GuestObject& object) { object.emitStubFailed(cause, message); });
}

void DbusServer::displayClientChanged(const GuestView& guest, bool connected, unsigned clients) {
    signalGuest(guestObjects_, guest, "a display client",
                [&](GuestObject& object) { object.emitDisplayClientChanged(connected, clients); });
}

void DbusServer::guestRemoved(const GuestView& guest) {
    auto it = guestObjects_.find(guest.uuid);
    if (it == guestObjects_.end())
        return;
    std::unique_ptr<GuestObject> object = std::move(it->second);
    guestObjects_.erase(it);
    guestRows_.remove(guest.uuid);
    try {
        // While the object still exists: sd-bus lists its interfaces for the signal.
        object->emitInterfacesRemovedSignal();
        manager_->emitGuestRemoved(guest.name, sdbus::ObjectPath(object->getObjectPath()));
    } catch (const std::exception& e) {
        logError(fieldsOf(guest), std::string("cannot signal a guest's removal: ") + e.what());
    }
}

void DbusServer::helperChanged(const HelperView& helper, std::uint32_t fields) {
    auto it = helperObjects_.find(helper.name);
    if (it == helperObjects_.end())
        return;
    try {
        it->second->update(helper, fields);
    } catch (const std::exception& e) {
        LogFields logFields;
        logFields.helper = helper.name;
        logError(logFields, std::string("cannot signal a helper change: ") + e.what());
    }
}

} // namespace stubdomd::dbus
