// The server's values on the wire: what a reply or signal carries, appended to a raw
// sd-bus message, and the a{sv} options a call brings, read off it. Every failure of
// sd-bus is thrown as Error(Internal) naming what was being written or read (a call's
// bad arguments are caught earlier: sd-bus checks its signature against the vtable).
#pragma once

#include "dbus/server/GuestRows.hpp"
#include "dbus/server/Options.hpp"
#include "dbus/server/SdBusHandles.hpp"
#include "loop/UniqueFd.hpp"

#include <sdbus-c++/Types.h>
#include <systemd/sd-bus.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace stubdomd::dbus {

using Dict = std::map<std::string, sdbus::Variant>;

// sd-bus's result `r`: a negative one becomes Error(Internal) naming `what`.
int checked(int r, const char* what);

void append(sd_bus_message* m, const std::string& value);             // s
void append(sd_bus_message* m, std::uint32_t value);                  // u
void append(sd_bus_message* m, std::int32_t value);                   // i
void append(sd_bus_message* m, std::uint64_t value);                  // t
void append(sd_bus_message* m, bool value);                           // b
void append(sd_bus_message* m, const std::vector<std::string>& list); // as
void append(sd_bus_message* m, const sdbus::ObjectPath& path);        // o
// h: sd-bus sends a duplicate, so `fd` stays the caller's to close.
void append(sd_bus_message* m, const UniqueFd& fd);
// a{sv}: values of the types the server's dictionaries hold (s b i u t as a(ss) a(sssb)).
void append(sd_bus_message* m, const Dict& dict);
// ListGuests' a(sssuuo).
void append(sd_bus_message* m, const std::vector<GuestRows::Row>& rows);

// A call's a{sv} options: checked against `known` in key order (checkOption, the same
// InvalidArgs a client got before), then returned with their values.
Options readOptions(sd_bus_message* m, std::string_view method,
                    const std::vector<OptionSpec>& known);

// Answers `call` with `values` (nothing when the caller asked for no reply). Returns 1,
// what a vtable handler returns for a call it answered.
template <typename... Values> int replyWith(sd_bus_message* call, const Values&... values) {
    if (!sd_bus_message_get_expect_reply(call))
        return 1;
    sd_bus_message* raw = nullptr;
    checked(sd_bus_message_new_method_return(call, &raw), "creating a reply");
    SdMessage reply(raw);
    (append(reply.get(), values), ...);
    checked(sd_bus_send(nullptr, reply.get(), nullptr), "sending a reply");
    return 1;
}

// Answers `call` with the D-Bus error `name`: `message`.
void replyError(sd_bus_message* call, const std::string& name, const std::string& message);

// Sends one PropertiesChanged of `interface` at `path` with the current values of
// `names` (read through the vtable's getters); none when `names` is empty.
void emitPropertiesChanged(sd_bus* bus, const std::string& path, const char* interface,
                           std::vector<std::string> names);

// Sends the signal `member` of `interface` from `path` with `values`.
template <typename... Values>
void emitSignal(sd_bus* bus, const char* path, const char* interface, const char* member,
                const Values&... values) {
    sd_bus_message* raw = nullptr;
    checked(sd_bus_message_new_signal(bus, &raw, path, interface, member), "creating a signal");
    SdMessage signal(raw);
    (append(signal.get(), values), ...);
    checked(sd_bus_send(bus, signal.get(), nullptr), "sending a signal");
}

} // namespace stubdomd::dbus
