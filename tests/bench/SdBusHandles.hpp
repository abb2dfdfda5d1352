// RAII owners of raw sd-bus handles for the benchmarks that talk to sd-bus directly
// (dbus_floor.cpp, dbus_object_cost.cpp): the server's own (dbus/server/SdBusHandles.hpp).
#pragma once

#include "dbus/server/SdBusHandles.hpp"

namespace bench {

using Bus = stubdomd::dbus::SdBus;
using Message = stubdomd::dbus::SdMessage;
using Slot = stubdomd::dbus::SdSlot;

} // namespace bench
