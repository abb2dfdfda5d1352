// Heap bytes per exported D-Bus object of a Guest-sized interface (13 methods, 15
// properties, 2 signals, as org.xen.Stubdom.Guest has), three ways (issue 18: stubdomd's
// RSS grows ~14 KiB per guest, ~10 KiB of it in GuestObject's registration):
//   sdbuscpp  sdbus-c++ 1.2 per-object registration, what GuestObject does today: every
//             object keeps its own maps of method/property/signal data and its own
//             sd_bus_vtable array, then sd-bus adds its own per-member entries;
//   vtable    raw sd-bus, one static vtable added at each object path (sd-bus's part only);
//   fallback  raw sd-bus, one fallback vtable for the whole guest/ prefix, the guest found
//             from the path at call time: no per-object registration at all.
// Bytes are malloc's in-use growth (mallinfo2) over STUBDOM_BENCH_OBJECTS objects (1000).
// Runs on a private session bus (meson runs it under dbus-run-session). Figures only.
#include "SdBusHandles.hpp"
#include <malloc.h>
#include <sdbus-c++/sdbus-c++.h>

#include <systemd/sd-bus.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr const char* kInterface = "org.xen.Stubdom.Guest";

// The member names of org.xen.Stubdom.Guest (dbus/org.xen.Stubdom.Guest.xml).
constexpr std::array<const char*, 13> kMethods{
    "Start",         "Stop",           "Restart",     "Pause",
    "Resume",        "GetDisplay",     "SetDisplay",  "SetDisplayPassword",
    "GetConsoleLog", "OpenConsoleLog", "OpenDisplay", "OpenConsole",
    "WatchResources"};
constexpr std::array<const char*, 15> kProperties{
    "Name",        "UUID",      "DomId",         "StubDomId",         "State",
    "StateReason", "Flavour",   "DisplayMode",   "DisplayAddress",    "DisplayPort",
    "Restarts",    "LastError", "StubMemoryMiB", "StubMemoryUsedKiB", "StubCpuTimeNs"};

std::size_t inUse() {
    return mallinfo2().uordblks;
}

// A guest's path has a 36-character uuid in it, escaped as ObjectPaths does.
std::string path(int i) {
    char buffer[96];
    std::snprintf(buffer, sizeof buffer, "/org/xen/Stubdom/guest/_%07x_1234_5678_9abc_def012345678",
                  i);
    return buffer;
}

int method(sd_bus_message* m, void*, sd_bus_error*) {
    return sd_bus_reply_method_return(m, "");
}

int property(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void*,
             sd_bus_error*) {
    return sd_bus_message_append(reply, "s", "x");
}

#define GUEST_METHOD(name) SD_BUS_METHOD(name, "a{sv}", "", method, 0)
#define GUEST_PROPERTY(name)                                                                       \
    SD_BUS_PROPERTY(name, "s", property, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE)

const sd_bus_vtable kVtable[] = {SD_BUS_VTABLE_START(0),
                                 GUEST_METHOD("Start"),
                                 GUEST_METHOD("Stop"),
                                 GUEST_METHOD("Restart"),
                                 GUEST_METHOD("Pause"),
                                 GUEST_METHOD("Resume"),
                                 GUEST_METHOD("GetDisplay"),
                                 GUEST_METHOD("SetDisplay"),
                                 GUEST_METHOD("SetDisplayPassword"),
                                 GUEST_METHOD("GetConsoleLog"),
                                 GUEST_METHOD("OpenConsoleLog"),
                                 GUEST_METHOD("OpenDisplay"),
                                 GUEST_METHOD("OpenConsole"),
                                 GUEST_METHOD("WatchResources"),
                                 GUEST_PROPERTY("Name"),
                                 GUEST_PROPERTY("UUID"),
                                 GUEST_PROPERTY("DomId"),
                                 GUEST_PROPERTY("StubDomId"),
                                 GUEST_PROPERTY("State"),
                                 GUEST_PROPERTY("StateReason"),
                                 GUEST_PROPERTY("Flavour"),
                                 GUEST_PROPERTY("DisplayMode"),
                                 GUEST_PROPERTY("DisplayAddress"),
                                 GUEST_PROPERTY("DisplayPort"),
                                 GUEST_PROPERTY("Restarts"),
                                 GUEST_PROPERTY("LastError"),
                                 GUEST_PROPERTY("StubMemoryMiB"),
                                 GUEST_PROPERTY("StubMemoryUsedKiB"),
                                 GUEST_PROPERTY("StubCpuTimeNs"),
                                 SD_BUS_SIGNAL("StubFailed", "s", 0),
                                 SD_BUS_SIGNAL("DisplayClientChanged", "s", 0),
                                 SD_BUS_VTABLE_END};

using bench::Bus;
using bench::Slot;

std::size_t sdbuscppPerObject(int count) {
    auto connection = sdbus::createSessionBusConnection();
    std::vector<std::unique_ptr<sdbus::IObject>> objects;
    const std::size_t before = inUse();
    for (int i = 0; i < count; ++i) {
        auto object = sdbus::createObject(*connection, path(i));
        for (const char* name : kMethods)
            object->registerMethod(name)
                .onInterface(kInterface)
                .withInputParamNames("options")
                .implementedAs([](sdbus::Result<>&& result, std::map<std::string, sdbus::Variant>) {
                    result.returnResults();
                });
        for (const char* name : kProperties)
            object->registerProperty(name).onInterface(kInterface).withGetter([] {
                return std::string("x");
            });
        object->registerSignal("StubFailed")
            .onInterface(kInterface)
            .withParameters<std::string>("reason");
        object->registerSignal("DisplayClientChanged")
            .onInterface(kInterface)
            .withParameters<std::string>("client");
        object->finishRegistration();
        objects.push_back(std::move(object));
    }
    return (inUse() - before) / count;
}

Bus openBus() {
    sd_bus* bus = nullptr;
    if (int r = sd_bus_open_user(&bus); r < 0)
        throw std::runtime_error("sd_bus_open_user: " + std::to_string(r));
    return Bus(bus);
}

std::size_t vtablePerObject(int count) {
    Bus bus = openBus();
    std::vector<Slot> slots;
    slots.reserve(count); // the slots' own vector is not sd-bus's cost
    const std::size_t before = inUse();
    for (int i = 0; i < count; ++i) {
        sd_bus_slot* slot = nullptr;
        if (int r = sd_bus_add_object_vtable(bus.get(), &slot, path(i).c_str(), kInterface, kVtable,
                                             nullptr);
            r < 0)
            throw std::runtime_error("sd_bus_add_object_vtable: " + std::to_string(r));
        slots.emplace_back(slot);
    }
    return (inUse() - before) / count;
}

std::size_t fallbackPerObject(int count) {
    Bus bus = openBus();
    const std::size_t before = inUse();
    sd_bus_slot* slot = nullptr;
    auto find = [](sd_bus*, const char*, const char*, void*, void** found, sd_bus_error*) {
        *found = nullptr; // stubdomd would look the guest up by the path's uuid
        return 1;
    };
    if (int r = sd_bus_add_fallback_vtable(bus.get(), &slot, "/org/xen/Stubdom/guest", kInterface,
                                           kVtable, find, nullptr);
        r < 0)
        throw std::runtime_error("sd_bus_add_fallback_vtable: " + std::to_string(r));
    Slot owned(slot);
    return (inUse() - before) / count;
}

} // namespace

int main() {
    const char* env = std::getenv("STUBDOM_BENCH_OBJECTS");
    const int count = env ? std::atoi(env) : 1000;
    if (count <= 0) {
        std::fprintf(stderr, "STUBDOM_BENCH_OBJECTS: a positive count, not '%s'\n", env);
        return 2;
    }
    std::printf("objects=%d\n", count);
    std::printf("sdbuscpp_bytes_per_object=%zu\n", sdbuscppPerObject(count));
    std::printf("sdbus_vtable_bytes_per_object=%zu\n", vtablePerObject(count));
    std::printf("sdbus_fallback_bytes_per_object=%zu\n", fallbackPerObject(count));
    return 0;
}
