// One supervised helper's object, /org/xen/Stubdom/helper/<name>:
// org.xen.Stubdom.Helper over a cached HelperView. Helpers are few (fs-backend), so each
// has a vtable of its own at its path.
#pragma once

#include "core/HelperService.hpp"
#include "dbus/server/SdBusHandles.hpp"
#include "dbus/server/ServerContext.hpp"

#include <cstdint>
#include <string>

namespace stubdomd::dbus {

class HelperObject final {
public:
    // Adds the interface at the helper's path on `bus`, until destroyed.
    // `context.helpers` must not be null.
    HelperObject(sd_bus* bus, ServerContext& context, const HelperView& view);

    const HelperView& view() const { return view_; }
    // Takes the new view and sends one PropertiesChanged with exactly `fields`.
    void update(const HelperView& view, std::uint32_t fields);

    // Method handlers (VtableGlue.hpp's methodOf).
    int start(sd_bus_message* call);
    int stop(sd_bus_message* call);
    int restart(sd_bus_message* call);

    // Property getters.
    std::string name() const { return view_.name; }
    std::string state() const { return std::string(toString(view_.state)); }
    std::uint32_t mainPid() const { return view_.mainPid; }
    std::uint32_t restarts() const { return view_.restarts; }
    std::string lastExit() const { return view_.lastExit; }

private:
    using Command = void (HelperService::*)(const std::string&, Completion);
    int runCommand(sd_bus_message* call, Command command);

    sd_bus* bus_;
    ServerContext& context_;
    HelperView view_;
    std::string path_;
    SdSlot slot_; // the vtable
};

} // namespace stubdomd::dbus
