// /org/xen/Stubdom: org.xen.Stubdom.Manager and the ObjectManager for every guest
// and helper object below it.
#pragma once

#include "dbus/org.xen.Stubdom.Manager_adaptor.h"
#include "dbus/server/GuestObject.hpp"
#include "dbus/server/GuestRows.hpp"
#include "dbus/server/ServerContext.hpp"
#include "dbus/server/ServerInfo.hpp"

#include <sdbus-c++/StandardInterfaces.h>

#include <map>
#include <memory>
#include <string>

namespace stubdomd::dbus {

// The exported guest objects by uuid (owned by DbusServer): what ListGuests and the
// lookups answer from, so a client never gets a path that is not (yet) exported.
using GuestObjects = std::map<std::string, std::unique_ptr<GuestObject>>;

class ManagerObject final
    : public sdbus::AdaptorInterfaces<org::xen::Stubdom::Manager_adaptor,
                                      sdbus::ObjectManager_adaptor, sdbus::Properties_adaptor> {
public:
    ManagerObject(sdbus::IConnection& connection, ServerContext& context, ServerInfo info,
                  const GuestObjects& guests, const GuestRows& rows);
    ~ManagerObject();

private:
    void ListGuests(sdbus::Result<std::vector<GuestRows::Row>>&& result) override;
    sdbus::ObjectPath GetGuest(const std::string& name_or_uuid) override;
    sdbus::ObjectPath GetGuestByDomid(const uint32_t& domid) override;
    void Attach(sdbus::Result<sdbus::ObjectPath>&& result, uint32_t domid,
                std::map<std::string, sdbus::Variant> options) override;
    void Reload(sdbus::Result<>&& result) override;
    std::map<std::string, sdbus::Variant>
    PvGrubConfig(const std::map<std::string, sdbus::Variant>& options) override;
    std::map<std::string, sdbus::Variant> PvGrubCheck(const std::string& path) override;

    std::string Version() override;
    std::string XenVersion() override;
    std::vector<std::string> Features() override;
    std::string Toolstack() override;

    // The path of a guest the core found, if it is exported; else NoSuchGuest.
    sdbus::ObjectPath exportedPath(const std::optional<GuestView>& guest,
                                   const std::string& what) const;

    ServerContext& context_;
    ServerInfo info_;
    const GuestObjects& guests_;
    const GuestRows& rows_; // ListGuests' reply, in step with guests_ (DbusServer)
};

} // namespace stubdomd::dbus
