// /org/xen/Stubdom: org.xen.Stubdom.Manager (the ObjectManager for every guest and
// helper object below it is DbusServer's).
#pragma once

#include "dbus/server/GuestObject.hpp"
#include "dbus/server/GuestRows.hpp"
#include "dbus/server/SdBusHandles.hpp"
#include "dbus/server/ServerContext.hpp"
#include "dbus/server/ServerInfo.hpp"

#include <sdbus-c++/Types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace stubdomd::dbus {

// The exported guest objects by uuid (owned by DbusServer): what ListGuests and the
// lookups answer from, so a client never gets a path that is not (yet) exported.
using GuestObjects = std::map<std::string, std::unique_ptr<GuestObject>>;

class ManagerObject final {
public:
    // Adds the interface at kManagerPath on `bus`, until destroyed.
    ManagerObject(sd_bus* bus, ServerContext& context, ServerInfo info, const GuestObjects& guests,
                  const GuestRows& rows);

    void emitGuestNew(const std::string& name, const std::string& path);
    void emitGuestRemoved(const std::string& name, const std::string& path);

    // Method handlers (VtableGlue.hpp's methodOf).
    int listGuests(sd_bus_message* call);
    int getGuest(sd_bus_message* call);
    int getGuestByDomid(sd_bus_message* call);
    int attach(sd_bus_message* call);
    int reload(sd_bus_message* call);
    int pvGrubConfig(sd_bus_message* call);
    int pvGrubCheck(sd_bus_message* call);

    // Property getters.
    std::string version() const { return info_.version; }
    std::string xenVersion() const { return info_.xenVersion; }
    std::vector<std::string> features() const { return info_.features; }
    std::string toolstack() const { return info_.toolstack; }

private:
    // The path of a guest the core found, if it is exported; else NoSuchGuest.
    sdbus::ObjectPath exportedPath(const std::optional<GuestView>& guest,
                                   const std::string& what) const;

    sd_bus* bus_;
    ServerContext& context_;
    ServerInfo info_;
    const GuestObjects& guests_;
    const GuestRows& rows_; // ListGuests' reply, in step with guests_ (DbusServer)
    SdSlot slot_;           // the vtable
};

} // namespace stubdomd::dbus
