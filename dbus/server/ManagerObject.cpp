#include "dbus/server/ManagerObject.hpp"

#include "core/Excerpt.hpp"
#include "dbus/Names.hpp"
#include "dbus/server/ObjectPaths.hpp"
#include "dbus/server/Options.hpp"
#include "dbus/server/PvGrubDbus.hpp"

namespace stubdomd::dbus {

ManagerObject::ManagerObject(sdbus::IConnection& connection, ServerContext& context,
                             ServerInfo info, const GuestObjects& guests, const GuestRows& rows)
    : AdaptorInterfaces(connection, kManagerPath), context_(context), info_(std::move(info)),
      guests_(guests), rows_(rows) {
    registerAdaptor();
}

ManagerObject::~ManagerObject() {
    unregisterAdaptor();
}

// Answered at once, marshalled from the rows kept ready (GuestRows.hpp).
void ManagerObject::ListGuests(sdbus::Result<std::vector<GuestRows::Row>>&& result) {
    try {
        result.returnResults(rows_.rows());
    } catch (...) {
        result.returnError(currentExceptionAsDbusError());
    }
}

sdbus::ObjectPath ManagerObject::exportedPath(const std::optional<GuestView>& guest,
                                              const std::string& what) const {
    if (!guest || guests_.find(guest->uuid) == guests_.end())
        throw Error(ErrorCode::NoSuchGuest, "no guest " + what);
    return sdbus::ObjectPath(guests_.at(guest->uuid)->getObjectPath());
}

sdbus::ObjectPath ManagerObject::GetGuest(const std::string& name_or_uuid) {
    try {
        return exportedPath(context_.guests.findGuest(name_or_uuid),
                            "named or with uuid '" + excerpt(name_or_uuid) + "'");
    } catch (...) {
        throw currentExceptionAsDbusError();
    }
}

sdbus::ObjectPath ManagerObject::GetGuestByDomid(const uint32_t& domid) {
    try {
        return exportedPath(context_.guests.findGuestByDomid(domid),
                            "with domain id " + std::to_string(domid) + " or a stub domain of it");
    } catch (...) {
        throw currentExceptionAsDbusError();
    }
}

void ManagerObject::Attach(sdbus::Result<sdbus::ObjectPath>&& result, uint32_t domid,
                           std::map<std::string, sdbus::Variant> options) {
    AsyncReply<sdbus::ObjectPath> reply(context_.replies, std::move(result));
    try {
        checkOptions("Attach", options, attachOptions());
        std::optional<GuestDisplayConfig> display = toolstackDisplay(options);
        authorizeThen(context_, getObject(), kActionManage, reply,
                      [service = &context_.guests, domid, reply, display] {
                          auto done = [service, domid, reply](const std::optional<Error>& error) {
                              try {
                                  if (error)
                                      throw *error;
                                  auto guest = service->findGuestByDomid(domid);
                                  if (!guest)
                                      throw Error(ErrorCode::NoSuchGuest,
                                                  "domain " + std::to_string(domid) +
                                                      " went away while being attached");
                                  reply.succeed(sdbus::ObjectPath(guestPath(guest->uuid)));
                              } catch (...) {
                                  reply.fail(currentExceptionAsDbusError());
                              }
                          };
                          if (display)
                              service->attachWithDisplay(domid, *display, std::move(done));
                          else
                              service->attach(domid, std::move(done));
                      });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
}

void ManagerObject::Reload(sdbus::Result<>&& result) {
    AsyncReply<> reply(context_.replies, std::move(result));
    try {
        authorizeThen(context_, getObject(), kActionManage, reply,
                      [service = &context_.guests, reply] {
                          service->reload();
                          reply.succeed();
                      });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
}

// Reading only, so open to every caller; the files named are opened with the caller's
// rights in mind (PvGrubService), since the daemon reads as root.
std::map<std::string, sdbus::Variant>
ManagerObject::PvGrubConfig(const std::map<std::string, sdbus::Variant>& options) {
    try {
        if (!context_.pvgrub)
            throw Error(ErrorCode::NotSupported, "PV-GRUB support is not enabled in stubdomd");
        const pvgrub::ConfigRequest request = pvGrubConfigRequest(options);
        return toDict(context_.pvgrub->config(request, currentCaller(getObject()).uid == 0u));
    } catch (...) {
        throw currentExceptionAsDbusError();
    }
}

std::map<std::string, sdbus::Variant> ManagerObject::PvGrubCheck(const std::string& path) {
    try {
        if (!context_.pvgrub)
            throw Error(ErrorCode::NotSupported, "PV-GRUB support is not enabled in stubdomd");
        checkPvGrubPath(path);
        return toDict(context_.pvgrub->check(path, currentCaller(getObject()).uid == 0u));
    } catch (...) {
        throw currentExceptionAsDbusError();
    }
}

std::string ManagerObject::Version() {
    return info_.version;
}
std::string ManagerObject::XenVersion() {
    return info_.xenVersion;
}
std::vector<std::string> ManagerObject::Features() {
    return info_.features;
}
std::string ManagerObject::Toolstack() {
    return info_.toolstack;
}

} // namespace stubdomd::dbus
