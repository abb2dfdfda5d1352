#include "dbus/server/DbusServer.hpp"

#include "core/Log.hpp"
#include "dbus/Names.hpp"
#include "dbus/server/Marshal.hpp"
#include "dbus/server/ObjectPaths.hpp"

#include <poll.h>
#include <time.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

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

SdBus openSystemBus() {
    sd_bus* raw = nullptr;
    // sd-bus honours DBUS_SYSTEM_BUS_ADDRESS (the tests' private bus).
    checked(sd_bus_open_system(&raw), "connecting to the system bus");
    return SdBus(raw);
}

} // namespace

DbusServer::DbusServer(EventLoop& loop, GuestService& guests, HelperService* helpers,
                       ServerInfo info, PvGrubService* pvgrub)
    : loop_(loop), guests_(guests), helpers_(helpers), bus_(openSystemBus()),
      authorizer_(bus_.get()), resources_(loop, guests), context_{guests,   helpers, authorizer_,
                                                                  replies_, pvgrub,  &resources_} {
    // sdbus-c++ still gives the server its value types (Variant in options and replies'
    // dictionaries), and makes their messages on a thread-local pseudo connection holding
    // two eventfds, created at the first Variant. Made now, so the descriptors the daemon
    // holds do not change with the first call that brings options (the fd-count tests).
    sdbus::Variant(std::uint32_t{0});
    sd_bus* bus = bus_.get();
    sd_bus_slot* slot = nullptr;
    checked(sd_bus_add_object_manager(bus, &slot, kManagerPath), "adding the ObjectManager");
    objectManager_.reset(slot);
    checked(sd_bus_add_fallback_vtable(bus, &slot, kGuestPathPrefix, kGuestInterface,
                                       GuestObject::vtable(), &DbusServer::findGuest, this),
            "adding the Guest interface");
    guestVtable_.reset(slot);
    checked(sd_bus_add_node_enumerator(bus, &slot, kGuestPathPrefix, &DbusServer::enumerateGuests,
                                       this),
            "adding the guests' enumerator");
    guestEnumerator_.reset(slot);
    manager_ =
        std::make_unique<ManagerObject>(bus, context_, std::move(info), guestObjects_, guestRows_);

    // Observe first, then take the snapshot: a guest added in between (there is none
    // on a single thread, but the order costs nothing) is not missed.
    guests_.addObserver(*this);
    try {
        for (const GuestView& guest : guests_.guests())
            exportGuest(guest, /*announce=*/false);
        if (helpers_) {
            helpers_->addObserver(*this);
            for (const HelperView& helper : helpers_->helpers())
                helperObjects_.emplace(helper.name,
                                       std::make_unique<HelperObject>(bus, context_, helper));
        }
        // Last: a client that sees the name sees complete objects.
        checked(sd_bus_request_name(bus, kBusName, 0), "owning org.xen.Stubdom");
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
    const int fd = checked(sd_bus_get_fd(bus_.get()), "the bus's descriptor");
    const int events = checked(sd_bus_get_events(bus_.get()), "the bus's events");
    busFd_ = fd;
    loop_.addFd(busFd_, static_cast<short>(events), [this](short) { dispatch(); });
    loop_.beforePoll([this] { return prepareLoop(); });
}

std::string DbusServer::uniqueName() const {
    const char* name = nullptr;
    checked(sd_bus_get_unique_name(bus_.get(), &name), "the bus's unique name");
    return name;
}

int DbusServer::pollTimeout() const {
    std::uint64_t until = 0; // absolute, CLOCK_MONOTONIC, in µs
    checked(sd_bus_get_timeout(bus_.get(), &until), "the bus's timeout");
    if (until == UINT64_MAX)
        return -1;
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    const std::uint64_t nowUsec = static_cast<std::uint64_t>(now.tv_sec) * 1000000u +
                                  static_cast<std::uint64_t>(now.tv_nsec) / 1000u;
    if (until <= nowUsec)
        return 0;
    const std::uint64_t ms = (until - nowUsec + 999u) / 1000u; // rounded up: never early
    return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

int DbusServer::prepareLoop() noexcept {
    try {
        // sd-bus wants POLLOUT only while it has something queued, and a timeout for
        // pending method calls (polkit). A timeout of 0 means it has work that poll()
        // would never wake us for: messages it read while waiting for a reply (e.g.
        // during requestName), or an expired call timeout. Do that work now; the
        // bound only guards against a library that keeps asking.
        for (int round = 0; round < 64 && pollTimeout() == 0; ++round)
            dispatch();
        const int events = checked(sd_bus_get_events(bus_.get()), "the bus's events");
        loop_.modifyFd(busFd_, static_cast<short>(events));
        return pollTimeout();
    } catch (const std::exception& e) {
        logError({}, std::string("D-Bus connection failed: ") + e.what());
        loop_.stop();
        return 0;
    }
}

void DbusServer::dispatch() noexcept {
    try {
        while (checked(sd_bus_process(bus_.get(), nullptr), "processing the bus") > 0) {
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
    guestObjects_.emplace(guest.uuid, std::make_unique<GuestObject>(context_, guest));
    const std::string path = guestPath(guest.uuid);
    guestRows_.add(guest, path);
    if (announce) {
        // Once findGuest finds it: sd-bus reads its properties for the signal.
        checked(sd_bus_emit_object_added(bus_.get(), path.c_str()), "sending InterfacesAdded");
        manager_->emitGuestNew(guest.name, path);
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
                [&](GuestObject& object) { object.update(bus_.get(), guest, fields); });
}

void DbusServer::stubFailed(const GuestView& guest, const std::string& cause,
                            const std::string& message) {
    signalGuest(guestObjects_, guest, "a stub's failure",
                [&](GuestObject& object) { object.emitStubFailed(bus_.get(), cause, message); });
}

void DbusServer::displayClientChanged(const GuestView& guest, bool connected, unsigned clients) {
    signalGuest(guestObjects_, guest, "a display client", [&](GuestObject& object) {
        object.emitDisplayClientChanged(bus_.get(), connected, clients);
    });
}

void DbusServer::guestRemoved(const GuestView& guest) {
    auto it = guestObjects_.find(guest.uuid);
    if (it == guestObjects_.end())
        return;
    const std::string path = guestPath(guest.uuid);
    try {
        // While findGuest still finds it: sd-bus lists its interfaces for the signal.
        checked(sd_bus_emit_object_removed(bus_.get(), path.c_str()), "sending InterfacesRemoved");
    } catch (const std::exception& e) {
        logError(fieldsOf(guest), std::string("cannot signal a guest's removal: ") + e.what());
    }
    guestObjects_.erase(it);
    guestRows_.remove(guest.uuid);
    try {
        manager_->emitGuestRemoved(guest.name, path);
    } catch (const std::exception& e) {
        logError(fieldsOf(guest), std::string("cannot signal a guest's removal: ") + e.what());
    }
}

int DbusServer::findGuest(sd_bus*, const char* path, const char*, void* userdata, void** found,
                          sd_bus_error*) {
    auto* self = static_cast<DbusServer*>(userdata);
    try {
        const std::optional<std::string> uuid = guestUuidOf(path);
        if (!uuid)
            return 0;
        auto it = self->guestObjects_.find(*uuid);
        if (it == self->guestObjects_.end())
            return 0;
        *found = it->second.get();
        return 1;
    } catch (...) {
        // Nothing may unwind into sd-bus; decoding fails only for want of memory.
        return -ENOMEM;
    }
}

int DbusServer::enumerateGuests(sd_bus*, const char*, void* userdata, char*** nodes,
                                sd_bus_error*) {
    auto* self = static_cast<DbusServer*>(userdata);
    const auto& rows = self->guestRows_.rows();
    // A NULL-terminated array of strings sd-bus frees with free().
    auto** list = static_cast<char**>(std::calloc(rows.size() + 1, sizeof(char*)));
    if (!list)
        return -ENOMEM;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        list[i] = strdup(rows[i].get<5>().c_str());
        if (!list[i]) {
            for (std::size_t j = 0; j < i; ++j)
                std::free(list[j]);
            std::free(list);
            return -ENOMEM;
        }
    }
    *nodes = list;
    return 0;
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
