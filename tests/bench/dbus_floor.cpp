// The floor of the bus for bench_dbus.py: a minimal sd-bus server that answers
// org.xen.Stubdom.Manager.ListGuests and org.freedesktop.DBus.ObjectManager.GetManagedObjects
// with replies captured once from a running stubdomd, so the same content and size.
//
// Usage: stubdomd-bench-floor <own bus name> <stubdomd's bus name> <object path>
// on the bus named by DBUS_SYSTEM_BUS_ADDRESS. Prints "ready" once it owns its name.
//
// Each captured reply is decoded once, at start, into a flat list of its values and
// container boundaries. Per call the list is appended to a new method return: the values
// are already at hand, so what is left is what any sd-bus server must do at least, marshal
// the reply, with no registry, no object tree, no lookup. (sd-bus cannot send one sealed
// message twice with a new reply serial; copying the captured message per call would also
// read it each time, about as much work again.)
#include "SdBusHandles.hpp"

#include <systemd/sd-bus.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using bench::Bus;
using bench::Message;
using bench::Slot;

void check(int r, const std::string& what) {
    if (r < 0)
        throw std::runtime_error(what + ": " + std::strerror(-r));
}

bool isContainer(char type) {
    return type == SD_BUS_TYPE_ARRAY || type == SD_BUS_TYPE_VARIANT || type == SD_BUS_TYPE_STRUCT ||
           type == SD_BUS_TYPE_DICT_ENTRY;
}

bool isString(char type) {
    return type == SD_BUS_TYPE_STRING || type == SD_BUS_TYPE_OBJECT_PATH ||
           type == SD_BUS_TYPE_SIGNATURE;
}

// A reply's body as the appends that build it, decoded once from a captured message.
class ReplyRecipe {
public:
    explicit ReplyRecipe(sd_bus_message* captured) {
        check(sd_bus_message_rewind(captured, 1), "rewinding a captured reply");
        decode(captured);
    }

    int appendTo(sd_bus_message* reply) const {
        for (const Step& step : steps_) {
            int r = 0;
            switch (step.kind) {
            case Step::Open:
                r = sd_bus_message_open_container(reply, step.type, step.text.c_str());
                break;
            case Step::Close:
                r = sd_bus_message_close_container(reply);
                break;
            case Step::Value:
                r = sd_bus_message_append_basic(reply, step.type,
                                                isString(step.type)
                                                    ? static_cast<const void*>(step.text.c_str())
                                                    : static_cast<const void*>(step.fixed));
                break;
            }
            if (r < 0)
                return r;
        }
        return 0;
    }

private:
    struct Step {
        enum Kind { Open, Close, Value } kind;
        char type = 0;
        std::string text; // a container's contents signature, or a string value
        alignas(8) unsigned char fixed[8] = {}; // a fixed-size value, as sd-bus reads it
    };

    void decode(sd_bus_message* m) {
        for (;;) {
            char type = 0;
            const char* contents = nullptr;
            const int more = sd_bus_message_peek_type(m, &type, &contents);
            check(more, "decoding a captured reply");
            if (more == 0)
                return;
            if (isContainer(type)) {
                steps_.push_back(Step{Step::Open, type, contents, {}});
                check(sd_bus_message_enter_container(m, type, contents), "entering a container");
                decode(m);
                check(sd_bus_message_exit_container(m), "leaving a container");
                steps_.push_back(Step{Step::Close, 0, {}, {}});
            } else if (isString(type)) {
                const char* text = nullptr;
                check(sd_bus_message_read_basic(m, type, &text), "reading a string");
                steps_.push_back(Step{Step::Value, type, text, {}});
            } else {
                Step step{Step::Value, type, {}, {}};
                check(sd_bus_message_read_basic(m, type, step.fixed), "reading a value");
                steps_.push_back(step);
            }
        }
    }

    std::vector<Step> steps_;
};

struct Replies {
    ReplyRecipe listGuests;
    ReplyRecipe managedObjects;
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
    const ReplyRecipe* recipe = nullptr;
    if (sd_bus_message_is_method_call(call, "org.xen.Stubdom.Manager", "ListGuests"))
        recipe = &replies->listGuests;
    else if (sd_bus_message_is_method_call(call, "org.freedesktop.DBus.ObjectManager",
                                           "GetManagedObjects"))
        recipe = &replies->managedObjects;
    else
        return 0; // sd-bus answers the rest (Peer.Ping, UnknownMethod).
    sd_bus_message* reply = nullptr;
    int r = sd_bus_message_new_method_return(call, &reply);
    if (r < 0)
        return r;
    Message owner(reply);
    if ((r = recipe->appendTo(reply)) < 0)
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
        Replies replies{
            ReplyRecipe(
                capture(bus.get(), argv[2], argv[3], "org.xen.Stubdom.Manager", "ListGuests")
                    .get()),
            ReplyRecipe(capture(bus.get(), argv[2], argv[3], "org.freedesktop.DBus.ObjectManager",
                                "GetManagedObjects")
                            .get())};
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
