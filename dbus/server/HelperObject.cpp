#include "dbus/server/HelperObject.hpp"

#include "dbus/Names.hpp"
#include "dbus/server/ChangedProperties.hpp"
#include "dbus/server/ObjectPaths.hpp"
#include "dbus/server/VtableGlue.hpp"

#include <array>
#include <utility>

namespace stubdomd::dbus {

namespace {

constexpr std::array<std::pair<HelperField, const char*>, 5> kProperties{{
    {HelperFieldName, "Name"},
    {HelperFieldState, "State"},
    {HelperFieldMainPid, "MainPID"},
    {HelperFieldRestarts, "Restarts"},
    {HelperFieldLastExit, "LastExit"},
}};

constexpr std::uint64_t kProperty = SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE;

using V = Vtable<HelperObject>;

// The members and signatures of dbus/org.xen.Stubdom.Helper.xml.
const sd_bus_vtable kVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("Start", "", "", V::method<&HelperObject::start>, kAnyCaller),
    SD_BUS_METHOD("Stop", "", "", V::method<&HelperObject::stop>, kAnyCaller),
    SD_BUS_METHOD("Restart", "", "", V::method<&HelperObject::restart>, kAnyCaller),
    SD_BUS_PROPERTY("Name", "s", (V::property<std::string, &HelperObject::name>), 0, kProperty),
    SD_BUS_PROPERTY("State", "s", (V::property<std::string, &HelperObject::state>), 0, kProperty),
    SD_BUS_PROPERTY("MainPID", "u", (V::property<std::uint32_t, &HelperObject::mainPid>), 0,
                    kProperty),
    SD_BUS_PROPERTY("Restarts", "u", (V::property<std::uint32_t, &HelperObject::restarts>), 0,
                    kProperty),
    SD_BUS_PROPERTY("LastExit", "s", (V::property<std::string, &HelperObject::lastExit>), 0,
                    kProperty),
    SD_BUS_VTABLE_END,
};

} // namespace

HelperObject::HelperObject(sd_bus* bus, ServerContext& context, const HelperView& view)
    : bus_(bus), context_(context), view_(view), path_(helperPath(view.name)) {
    sd_bus_slot* slot = nullptr;
    checked(sd_bus_add_object_vtable(bus, &slot, path_.c_str(), kHelperInterface, kVtable, this),
            "adding a Helper object");
    slot_.reset(slot);
}

void HelperObject::update(const HelperView& view, std::uint32_t fields) {
    view_ = view;
    emitPropertiesChanged(bus_, path_, kHelperInterface, changedProperties(kProperties, fields));
}

int HelperObject::runCommand(sd_bus_message* call, Command command) {
    AsyncReply<> reply(context_.replies, call);
    try {
        authorizeThen(context_, call, kActionManage, reply,
                      [service = context_.helpers, name = view_.name, reply, command] {
                          (service->*command)(name, reply.completion());
                      });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
    return 1;
}

int HelperObject::start(sd_bus_message* call) {
    return runCommand(call, &HelperService::start);
}
int HelperObject::stop(sd_bus_message* call) {
    return runCommand(call, &HelperService::stop);
}
int HelperObject::restart(sd_bus_message* call) {
    return runCommand(call, &HelperService::restart);
}

} // namespace stubdomd::dbus
