// Client: guest added/removed/changed events and the daemon going and coming, kept as
// a copy of every guest so each callback gets the whole, current GuestInfo.
#include "ClientImpl.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace stubdom {

namespace names = stubdomd::dbus;

namespace {

const std::string kGuestRoot = std::string(names::kManagerPath);

std::string signalMatch(const std::string& sender, const std::string& rest) {
    return "type='signal',sender='" + sender + "'," + rest;
}

// The property names whose values differ between two versions of a guest.
std::vector<std::string> differences(const GuestInfo& a, const GuestInfo& b) {
    std::vector<std::string> changed;
    auto check = [&](const char* name, const auto& x, const auto& y) {
        if (x != y) {
            changed.emplace_back(name);
        }
    };
    check("Name", a.name, b.name);
    check("UUID", a.uuid, b.uuid);
    check("DomId", a.domid, b.domid);
    check("StubDomId", a.stubDomid, b.stubDomid);
    check("State", a.state, b.state);
    check("StateReason", a.stateReason, b.stateReason);
    check("Flavour", a.flavour, b.flavour);
    check("DisplayMode", a.displayMode, b.displayMode);
    check("DisplayAddress", a.displayAddress, b.displayAddress);
    check("DisplayPort", a.displayPort, b.displayPort);
    check("Restarts", a.restarts, b.restarts);
    check("LastError", a.lastError, b.lastError);
    return changed;
}

} // namespace

void Client::onGuestAdded(GuestCallback callback) {
    impl_->added = std::move(callback);
}
void Client::onGuestRemoved(GuestCallback callback) {
    impl_->removed = std::move(callback);
}
void Client::onGuestChanged(GuestChangedCallback callback) {
    impl_->changed = std::move(callback);
}
void Client::onServiceChanged(ServiceCallback callback) {
    impl_->serviceChanged = std::move(callback);
}

void Client::Impl::subscribe() {
    // Handlers run inside sd_bus_process: they parse and queue, nothing else, and
    // swallow what they cannot parse (a malformed signal is not worth a crash).
    auto queueing = [](auto parse) {
        return [parse](sdbus::Message& message) {
            try {
                parse(message);
            } catch (...) {
            }
        };
    };
    const std::string daemon = names::kBusName;
    matches.push_back(connection.addMatch(
        signalMatch(daemon, "path='" + kGuestRoot +
                                "',interface='org.freedesktop.DBus.ObjectManager',"
                                "member='InterfacesAdded'"),
        queueing([this](sdbus::Message& message) {
            sdbus::ObjectPath path;
            detail::InterfacesAndProperties interfaces;
            message >> path >> interfaces;
            auto it = interfaces.find(names::kGuestInterface);
            if (it != interfaces.end()) {
                queue.push_back({Event::Kind::Added, path, it->second, {}, {}, nullptr});
            }
        })));
    matches.push_back(connection.addMatch(
        signalMatch(daemon, "path='" + kGuestRoot +
                                "',interface='org.freedesktop.DBus.ObjectManager',"
                                "member='InterfacesRemoved'"),
        queueing([this](sdbus::Message& message) {
            sdbus::ObjectPath path;
            std::vector<std::string> interfaces;
            message >> path >> interfaces;
            for (const auto& interface : interfaces) {
                if (interface == names::kGuestInterface) {
                    queue.push_back({Event::Kind::Removed, path, {}, {}, {}, nullptr});
                }
            }
        })));
    matches.push_back(connection.addMatch(
        signalMatch(daemon, "interface='org.freedesktop.DBus.Properties',"
                            "member='PropertiesChanged',path_namespace='" +
                                std::string(names::kGuestPathPrefix) + "',arg0='" +
                                names::kGuestInterface + "'"),
        queueing([this](sdbus::Message& message) {
            std::string interface;
            detail::Properties properties;
            message >> interface >> properties;
            queue.push_back(
                {Event::Kind::Changed, message.getPath(), std::move(properties), {}, {}, nullptr});
        })));
    matches.push_back(connection.addMatch(
        signalMatch("org.freedesktop.DBus",
                    "path='/org/freedesktop/DBus',interface='org.freedesktop.DBus',"
                    "member='NameOwnerChanged',arg0='" +
                        daemon + "'"),
        queueing([this](sdbus::Message& message) {
            std::string name, oldOwner, newOwner;
            message >> name >> oldOwner >> newOwner;
            if (!oldOwner.empty()) {
                queue.push_back({Event::Kind::ServiceGone, {}, {}, {}, {}, nullptr});
            }
            if (!newOwner.empty()) {
                queue.push_back({Event::Kind::ServiceBack, {}, {}, {}, {}, nullptr});
            }
        })));
}

void Client::Impl::requestSnapshot() {
    // Asynchronous on purpose: its reply is queued in bus order with the signals, so
    // signals sent before the snapshot are applied before it, not after.
    auto message =
        manager->createMethodCall("org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
    manager->callMethod(
        message,
        [this](sdbus::MethodReply& reply, const sdbus::Error* error) {
            if (error != nullptr) {
                return; // gone again; its NameOwnerChanged is queued
            }
            try {
                std::map<sdbus::ObjectPath, detail::InterfacesAndProperties> objects;
                reply >> objects;
                Event event{Event::Kind::Snapshot, {}, {}, {}, {}, nullptr};
                event.objects.insert(objects.begin(), objects.end());
                queue.push_back(std::move(event));
            } catch (...) {
            }
        },
        usec({}));
}

void Client::Impl::applySnapshot(
    const std::map<std::string, detail::InterfacesAndProperties>& objects, bool announce) {
    std::map<std::string, GuestInfo> now;
    for (const auto& [path, interfaces] : objects) {
        if (auto it = interfaces.find(names::kGuestInterface); it != interfaces.end()) {
            now.emplace(path, detail::guestFromProperties(path, it->second));
        }
    }
    auto before = std::move(guests);
    guests = now;
    if (!announce) {
        return;
    }
    for (const auto& [path, guest] : before) {
        if (now.count(path) == 0 && removed) {
            removed(guest);
        }
    }
    for (const auto& [path, guest] : now) {
        auto old = before.find(path);
        if (old == before.end()) {
            if (added) {
                added(guest);
            }
        } else if (auto diff = differences(old->second, guest); !diff.empty() && changed) {
            changed(guest, diff);
        }
    }
}

void Client::Impl::dispatch(Event& event) {
    switch (event.kind) {
    case Event::Kind::Added: {
        auto guest = detail::guestFromProperties(event.path, event.properties);
        auto it = guests.find(event.path);
        if (it == guests.end()) {
            guests.emplace(event.path, guest);
            if (added) {
                added(guest);
            }
        } else if (auto diff = differences(it->second, guest); !diff.empty()) {
            it->second = guest;
            if (changed) {
                changed(guest, diff);
            }
        }
        break;
    }
    case Event::Kind::Removed: {
        auto it = guests.find(event.path);
        if (it != guests.end()) {
            auto guest = std::move(it->second);
            guests.erase(it);
            if (removed) {
                removed(guest);
            }
        }
        break;
    }
    case Event::Kind::Changed: {
        auto it = guests.find(event.path);
        if (it == guests.end()) {
            break; // not announced yet; InterfacesAdded will carry the values
        }
        auto before = it->second;
        for (const auto& [name, value] : event.properties) {
            detail::applyGuestProperty(it->second, name, value);
        }
        if (auto diff = differences(before, it->second); !diff.empty() && changed) {
            changed(it->second, diff);
        }
        break;
    }
    case Event::Kind::ServiceGone:
        // The guests live on in Xen; keep them until the daemon's next snapshot says.
        if (serviceChanged) {
            serviceChanged(false);
        }
        break;
    case Event::Kind::ServiceBack:
        if (serviceChanged) {
            serviceChanged(true);
        }
        requestSnapshot();
        break;
    case Event::Kind::Snapshot:
        applySnapshot(event.objects, true);
        break;
    case Event::Kind::AttachDone:
        if (event.attachDone) {
            event.attachDone(event.path, event.error);
        }
        break;
    }
}

std::vector<GuestInfo> Client::watch() {
    if (!impl_->watching) {
        try {
            impl_->subscribe();
        } catch (const sdbus::Error& e) {
            detail::throwFromDbus(e);
        }
        impl_->watching = true;
    }
    std::vector<GuestInfo> result;
    if (!serviceRunning()) {
        return result;
    }
    // Subscribed first, then read: nothing that happens in between is missed. Signals
    // that raced with the read are older than it, so drop what was queued before it.
    try {
        impl_->requestSnapshot();
    } catch (const sdbus::Error& e) {
        detail::throwFromDbus(e);
    }
    auto deadline = std::chrono::steady_clock::now() + impl_->timeout;
    while (true) {
        // Drive the bus without running user callbacks: handlers only queue.
        try {
            while (impl_->connection.processPendingRequest()) {
            }
        } catch (const sdbus::Error& e) {
            detail::throwFromDbus(e);
        }
        for (auto it = impl_->queue.begin(); it != impl_->queue.end(); ++it) {
            if (it->kind == Event::Kind::Snapshot) {
                impl_->applySnapshot(it->objects, false);
                // Attach replies are not part of the guests' history: keep them.
                auto stale = std::remove_if(impl_->queue.begin(), it + 1, [](const Event& e) {
                    return e.kind != Event::Kind::AttachDone;
                });
                impl_->queue.erase(stale, it + 1);
                for (const auto& [path, guest] : impl_->guests) {
                    result.push_back(guest);
                }
                return result;
            }
        }
        auto left =
            std::chrono::duration_cast<Timeout>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            throw TimedOut(names::kErrorTimedOut, "stubdomd did not list its objects in time");
        }
        impl_->waitForBus(left);
    }
}

void Client::Impl::waitForBus(Timeout left) {
    sdbus::IConnection::PollData data;
    try {
        data = connection.getEventLoopPollData();
    } catch (const sdbus::Error& e) {
        detail::throwFromDbus(e);
    }
    pollfd pfd{data.fd, data.events, 0};
    int wait = static_cast<int>(left.count());
    int bus = data.getPollTimeout();
    if (bus >= 0 && bus < wait) {
        wait = bus;
    }
    if (::poll(&pfd, 1, wait) < 0 && errno != EINTR) {
        throw std::system_error(errno, std::generic_category(), "poll");
    }
}

int Client::fd() const {
    return pollInfo().fd;
}

PollInfo Client::pollInfo() const {
    try {
        auto data = impl_->connection.getEventLoopPollData();
        return {data.fd, data.events, data.getPollTimeout()};
    } catch (const sdbus::Error& e) {
        detail::throwFromDbus(e);
    }
}

bool Client::processEvents(Timeout timeout) {
    auto drain = [this] {
        try {
            while (impl_->connection.processPendingRequest()) {
            }
        } catch (const sdbus::Error& e) {
            detail::throwFromDbus(e);
        }
    };
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        drain();
        if (!impl_->queue.empty()) {
            // A callback may call the Client, which may queue more: take one at a time,
            // and read the bus again, since a synchronous call in a callback leaves the
            // signals it received in sd-bus's queue, where poll() cannot see them.
            while (!impl_->queue.empty()) {
                auto event = std::move(impl_->queue.front());
                impl_->queue.pop_front();
                impl_->dispatch(event);
                if (impl_->queue.empty()) {
                    drain();
                }
            }
            return true;
        }
        auto left =
            std::chrono::duration_cast<Timeout>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return false;
        }
        impl_->waitForBus(left);
    }
}

} // namespace stubdom
