// RAII owners of raw sd-bus handles for the benchmarks that talk to sd-bus directly
// (dbus_floor.cpp, dbus_object_cost.cpp): each handle is unreferenced exactly once.
#pragma once

#include <systemd/sd-bus.h>

#include <memory>

namespace bench {

struct BusUnref {
    void operator()(sd_bus* bus) const { sd_bus_flush_close_unref(bus); }
};
struct MessageUnref {
    void operator()(sd_bus_message* m) const { sd_bus_message_unref(m); }
};
struct SlotUnref {
    void operator()(sd_bus_slot* s) const { sd_bus_slot_unref(s); }
};
using Bus = std::unique_ptr<sd_bus, BusUnref>;
using Message = std::unique_ptr<sd_bus_message, MessageUnref>;
using Slot = std::unique_ptr<sd_bus_slot, SlotUnref>;

} // namespace bench
