// RAII owners of raw sd-bus handles: each is unreferenced (or freed) exactly once, so no
// error path of the server leaks a connection, a slot, a message or an error's strings.
//
// Why raw sd-bus and not sdbus-c++: sdbus-c++ 1.2 registers every object with copies of
// its vtable and maps of its members (~10 KiB per guest, issue 18), and cannot share its
// connection, so the whole server is on one sd_bus of its own (DbusServer).
#pragma once

#include <systemd/sd-bus.h>

#include <memory>

namespace stubdomd::dbus {

struct SdBusUnref {
    // Flushed first: replies queued at shutdown (PendingReplies' Failed) still go out.
    void operator()(sd_bus* bus) const { sd_bus_flush_close_unref(bus); }
};
struct SdMessageUnref {
    void operator()(sd_bus_message* m) const { sd_bus_message_unref(m); }
};
struct SdSlotUnref {
    void operator()(sd_bus_slot* s) const { sd_bus_slot_unref(s); }
};
struct SdCredsUnref {
    void operator()(sd_bus_creds* c) const { sd_bus_creds_unref(c); }
};

using SdBus = std::unique_ptr<sd_bus, SdBusUnref>;
using SdMessage = std::unique_ptr<sd_bus_message, SdMessageUnref>;
// Unreferencing a slot removes what it registered (a vtable, a match, a pending call's
// callback), so a slot owned by an object ends its registrations with it.
using SdSlot = std::unique_ptr<sd_bus_slot, SdSlotUnref>;
using SdCreds = std::unique_ptr<sd_bus_creds, SdCredsUnref>;

// A message kept beyond the callback that was handed it (an async call's reply).
inline SdMessage refMessage(sd_bus_message* m) {
    return SdMessage(sd_bus_message_ref(m));
}

// An sd_bus_error that frees its name and message when it goes.
class SdError {
public:
    SdError() = default;
    ~SdError() { sd_bus_error_free(&error_); }
    SdError(const SdError&) = delete;
    SdError& operator=(const SdError&) = delete;

    sd_bus_error* get() { return &error_; }
    const sd_bus_error* get() const { return &error_; }

private:
    // All fields null, as SD_BUS_ERROR_NULL; that macro is a C compound literal, which
    // clang's -Wpedantic rejects in C++.
    sd_bus_error error_{};
};

} // namespace stubdomd::dbus
