// The floor of the bus for bench_dbus.py: a minimal sd-bus server that answers
// org.xen.Stubdom.Manager.ListGuests and org.freedesktop.DBus.ObjectManager.GetManagedObjects
// with replies captured once from a running stubdomd, so the same content and size.
//
// Usage: stubdomd-bench-floor <own bus name> <stubdomd's bus name> <object path>
// on the bus named by DBUS_SYSTEM_BUS_ADDRESS. Prints "ready" once it owns its name.
//
// Per call it copies the captured reply's body into a new method return (sd-bus has no way
// to send one sealed message twice with a new reply serial): that copy is what any sd-bus
// server must do at least, marshal the reply, with no registry, no object tree, no lookup.
#include "SdBusHandles.hpp"

#include <systemd/sd-bus.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>

namespace {

using bench::Bus;
using bench::Message;
using bench::Slot;

void check(int r, const std::string& what) {
    if (r < 0)
        throw std::runtime_error(what + ": " + std::strerror(-r));
}

struct Replies {
    Message listGuests;
    Message managedObjects;
};

Message capture(sd_bus* bus, const char* service, const char* path, const char* interface,
                const char* member) {
    sd_bus_error error{}; // SD_BUS_ERROR_NULL, a compound literal clang refuses in C++
    sd_bus_message* reply = nullptr;
    // 120 s: stubdomd on a loaded 2-core machine with 1000 guests.
    sd_bus_message* call = nullptr;
    check(sd_bus_message_new_method_call(bus, &call, service, path, interface, member),
          std::string("building ") + member);
    Message callOwner(call);
    int r = sd_bus_call(bus, call, 120'000'000, &error, &reply);
    std::string message = error.message ? error.message : "";
    sd_bus_error_free(&error);
    check(r, std::string("capturing ") + member + " from " + service + " (" + message + ")");
    return Message(reply);
}

int answer(sd_bus_message* call, void* userdata, sd_bus_error*) {
    auto* replies = static_cast<Replies*>(userdata);
    sd_bus_message* captured = nullptr;
    if (sd_bus_message_is_method_call(call, "org.xen.Stubdom.Manager", "ListGuests"))
        captured = replies->listGuests.get();
    else if (sd_bus_message_is_method_call(call, "org.freedesktop.DBus.ObjectManager",
                                           "GetManagedObjects"))
        captured = replies->managedObjects.get();
    else
        return 0; // sd-bus answers the rest (Peer.Ping, UnknownMethod).
    sd_bus_message* reply = nullptr;
    int r = sd_bus_message_new_method_return(call, &reply);
    if (r < 0)
        return r;
    Message owner(reply);
    if ((r = sd_bus_message_rewind(captured, 1)) < 0 ||
        (r = sd_bus_message_copy(reply, captured, 1)) < 0)
        return r;
    r = sd_bus_send(nullptr, reply, nullptr);
    return r < 0 ? r : 1;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s OWN-NAME STUBDOMD-NAME OBJECT-PATH\n", argv[0]);
        return 2;
    }
    try {
        sd_bus* raw = nullptr;
        check(sd_bus_open_system(&raw), "connecting to the system bus");
        Bus bus(raw);
        Replies replies;
        replies.listGuests =
            capture(bus.get(), argv[2], argv[3], "org.xen.Stubdom.Manager", "ListGuests");
        replies.managedObjects = capture(bus.get(), argv[2], argv[3],
                                         "org.freedesktop.DBus.ObjectManager", "GetManagedObjects");
        sd_bus_slot* slot = nullptr;
        check(sd_bus_add_object(bus.get(), &slot, argv[3], answer, &replies),
              "registering the object");
        Slot slotOwner(slot);
        check(sd_bus_request_name(bus.get(), argv[1], 0), std::string("owning ") + argv[1]);
        std::printf("ready\n");
        std::fflush(stdout);
        for (;;) {
            int r = sd_bus_process(bus.get(), nullptr);
            check(r, "processing");
            if (r == 0)
                check(sd_bus_wait(bus.get(), UINT64_MAX), "waiting");
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "stubdomd-bench-floor: %s\n", e.what());
        return 1;
    }
}
