// The trampolines a static sd_bus_vtable points at: each finds its object in the
// vtable's userdata (for the guests' fallback vtable, what GuestObjects::find gave),
// calls one member function, and turns whatever it throws into the call's D-Bus error
// (ErrorMapping, the edge), since nothing may unwind into sd-bus.
#pragma once

#include "dbus/server/ErrorMapping.hpp"
#include "dbus/server/Marshal.hpp"

#include <systemd/sd-bus.h>

#include <cstdint>

namespace stubdomd::dbus {

// Sets `error` to the exception in flight; returns what a handler returns for it.
inline int failWithCurrentException(sd_bus_error* error) noexcept {
    const sdbus::Error e = currentExceptionAsDbusError();
    return sd_bus_error_set(error, e.getName().c_str(), e.getMessage().c_str());
}

// A method: `(object->*Handler)(call)` answers the call now (replyWith) or keeps it for
// later (AsyncReply), and returns 1.
template <typename Object, int (Object::*Handler)(sd_bus_message*)>
int methodOf(sd_bus_message* call, void* userdata, sd_bus_error* error) noexcept {
    try {
        return (static_cast<Object*>(userdata)->*Handler)(call);
    } catch (...) {
        return failWithCurrentException(error);
    }
}

// A read-only property: the getter's value appended to sd-bus's reply (Get, GetAll,
// PropertiesChanged, GetManagedObjects, InterfacesAdded).
template <typename Object, typename Value, Value (Object::*Getter)() const>
int propertyOf(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply,
               void* userdata, sd_bus_error* error) noexcept {
    try {
        append(reply, (static_cast<const Object*>(userdata)->*Getter)());
        return 1;
    } catch (...) {
        return failWithCurrentException(error);
    }
}

// Method flags: anyone may call. Without SD_BUS_VTABLE_UNPRIVILEGED sd-bus demands
// CAP_SYS_ADMIN of a caller; who may do what is the Authorizer's (polkit's) decision, as
// it was when sdbus-c++ set the flag.
inline constexpr std::uint64_t kAnyCaller = SD_BUS_VTABLE_UNPRIVILEGED;

// The trampolines of one class, for its static vtable:
// `Vtable<X>::method<&X::call>`, `Vtable<X>::property<std::string, &X::name>`.
template <typename Object> struct Vtable {
    template <int (Object::*Handler)(sd_bus_message*)>
    static constexpr sd_bus_message_handler_t method = &methodOf<Object, Handler>;
    template <typename Value, Value (Object::*Getter)() const>
    static constexpr sd_bus_property_get_t property = &propertyOf<Object, Value, Getter>;
};

} // namespace stubdomd::dbus
