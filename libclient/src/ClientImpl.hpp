// The Client's state, shared by Calls.cpp (method calls) and Events.cpp (signals).
#pragma once

#include "Internal.hpp"

#include "dbus/Names.hpp"

#include "stubdom-client/Client.hpp"

#include <sdbus-c++/sdbus-c++.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stubdom {

// Something a signal or an async reply brought. sd-bus handlers only queue these:
// user callbacks run later from processEvents(), outside sd-bus (so they may call the
// Client, and their exceptions cannot unwind through sd-bus's C code).
struct Event {
    enum class Kind { Added, Removed, Changed, ServiceGone, ServiceBack, Snapshot, AttachDone };
    Kind kind;
    std::string path;
    detail::Properties properties;                                  // Added, Changed
    std::map<std::string, detail::InterfacesAndProperties> objects; // Snapshot
    Client::AttachDone attachDone;                                  // AttachDone
    std::exception_ptr error;                                       // AttachDone
};

struct Client::Impl {
    explicit Impl(sdbus::IConnection& connection);
    explicit Impl(std::unique_ptr<sdbus::IConnection> owned);

    std::unique_ptr<sdbus::IConnection> ownedConnection; // set when we opened the bus
    sdbus::IConnection& connection;
    std::unique_ptr<sdbus::IProxy> manager; // long-lived: async replies need their proxy
    Timeout timeout = kDefaultTimeout;

    std::uint64_t usec(std::optional<Timeout> t) const;

    // A method call on one of the daemon's objects; sdbus errors become typed ones.
    template <typename... Args>
    sdbus::MethodReply call(const std::string& path, const char* interface, const char* method,
                            std::optional<Timeout> t, const Args&... args);
    // The same on a guest object: a vanished object is NoSuchGuest.
    template <typename... Args>
    sdbus::MethodReply callGuest(const std::string& path, const char* method,
                                 std::optional<Timeout> t, const Args&... args);

    template <typename T> T managerProperty(const char* name);
    std::string guestPath(const std::string& nameOrUuid);
    std::string guestPathByDomid(std::uint32_t domid);
    std::map<std::string, detail::InterfacesAndProperties> managedObjects();
    HelperInfo helper(const std::string& name);

    // Events (Events.cpp).
    GuestCallback added, removed;
    GuestChangedCallback changed;
    ServiceCallback serviceChanged;
    bool watching = false;
    std::vector<sdbus::Slot> matches;
    std::map<std::string, GuestInfo> guests; // by object path
    std::deque<Event> queue;

    void subscribe();
    // Waits until the bus has something for processPendingRequest, at most `left`.
    void waitForBus(Timeout left);
    void requestSnapshot();
    void dispatch(Event& event);
    void applySnapshot(const std::map<std::string, detail::InterfacesAndProperties>& objects,
                       bool announce);
};

template <typename... Args>
sdbus::MethodReply Client::Impl::call(const std::string& path, const char* interface,
                                      const char* method, std::optional<Timeout> t,
                                      const Args&... args) {
    try {
        auto proxy = sdbus::createProxy(connection, stubdomd::dbus::kBusName, path);
        auto message = proxy->createMethodCall(interface, method);
        ((void)(message << args), ...);
        return proxy->callMethod(message, usec(t));
    } catch (const sdbus::Error& e) {
        detail::throwFromDbus(e);
    }
}

template <typename... Args>
sdbus::MethodReply Client::Impl::callGuest(const std::string& path, const char* method,
                                           std::optional<Timeout> t, const Args&... args) {
    try {
        return call(path, stubdomd::dbus::kGuestInterface, method, t, args...);
    } catch (const Error& e) {
        if (e.name() == "org.freedesktop.DBus.Error.UnknownObject") {
            throw NoSuchGuest(stubdomd::dbus::kErrorNoSuchGuest, "the guest is gone");
        }
        throw;
    }
}

} // namespace stubdom
