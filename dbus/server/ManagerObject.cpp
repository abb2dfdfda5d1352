#include "dbus/server/ManagerObject.hpp"

#include "core/Excerpt.hpp"
#include "dbus/Names.hpp"
#include "dbus/server/ObjectPaths.hpp"
#include "dbus/server/Options.hpp"
#include "dbus/server/PvGrubDbus.hpp"
#include "dbus/server/VtableGlue.hpp"

namespace stubdomd::dbus {

namespace {

constexpr std::uint64_t kConst = SD_BUS_VTABLE_PROPERTY_CONST;

using V = Vtable<ManagerObject>;

// The members, signatures and argument names of dbus/org.xen.Stubdom.Manager.xml.
const sd_bus_vtable kVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_NAMES("ListGuests", "", , "a(sssuuo)", SD_BUS_PARAM(guests),
                             V::method<&ManagerObject::listGuests>, kAnyCaller),
    SD_BUS_METHOD_WITH_NAMES("GetGuest", "s", SD_BUS_PARAM(name_or_uuid), "o", SD_BUS_PARAM(guest),
                             V::method<&ManagerObject::getGuest>, kAnyCaller),
    SD_BUS_METHOD_WITH_NAMES("GetGuestByDomid", "u", SD_BUS_PARAM(domid), "o", SD_BUS_PARAM(guest),
                             V::method<&ManagerObject::getGuestByDomid>, kAnyCaller),
    SD_BUS_METHOD_WITH_NAMES("Attach", "ua{sv}", SD_BUS_PARAM(domid) SD_BUS_PARAM(options), "o",
                             SD_BUS_PARAM(guest), V::method<&ManagerObject::attach>, kAnyCaller),
    SD_BUS_METHOD("Reload", "", "", V::method<&ManagerObject::reload>, kAnyCaller),
    SD_BUS_METHOD_WITH_NAMES("PvGrubConfig", "a{sv}", SD_BUS_PARAM(options), "a{sv}",
                             SD_BUS_PARAM(config), V::method<&ManagerObject::pvGrubConfig>,
                             kAnyCaller),
    SD_BUS_METHOD_WITH_NAMES("PvGrubCheck", "s", SD_BUS_PARAM(path), "a{sv}", SD_BUS_PARAM(report),
                             V::method<&ManagerObject::pvGrubCheck>, kAnyCaller),
    SD_BUS_SIGNAL_WITH_NAMES("GuestNew", "so", SD_BUS_PARAM(name) SD_BUS_PARAM(guest), 0),
    SD_BUS_SIGNAL_WITH_NAMES("GuestRemoved", "so", SD_BUS_PARAM(name) SD_BUS_PARAM(guest), 0),
    SD_BUS_PROPERTY("Version", "s", (V::property<std::string, &ManagerObject::version>), 0, kConst),
    SD_BUS_PROPERTY("XenVersion", "s", (V::property<std::string, &ManagerObject::xenVersion>), 0,
                    kConst),
    SD_BUS_PROPERTY("Features", "as",
                    (V::property<std::vector<std::string>, &ManagerObject::features>), 0, kConst),
    SD_BUS_PROPERTY("Toolstack", "s", (V::property<std::string, &ManagerObject::toolstack>), 0,
                    kConst),
    SD_BUS_VTABLE_END,
};

} // namespace

ManagerObject::ManagerObject(sd_bus* bus, ServerContext& context, ServerInfo info,
                             const GuestObjects& guests, const GuestRows& rows)
    : bus_(bus), context_(context), info_(std::move(info)), guests_(guests), rows_(rows) {
    sd_bus_slot* slot = nullptr;
    checked(sd_bus_add_object_vtable(bus, &slot, kManagerPath, kManagerInterface, kVtable, this),
            "adding the Manager interface");
    slot_.reset(slot);
}

void ManagerObject::emitGuestNew(const std::string& name, const std::string& path) {
    emitSignal(bus_, kManagerPath, kManagerInterface, "GuestNew", name, sdbus::ObjectPath(path));
}

void ManagerObject::emitGuestRemoved(const std::string& name, const std::string& path) {
    emitSignal(bus_, kManagerPath, kManagerInterface, "GuestRemoved", name,
               sdbus::ObjectPath(path));
}

// Answered at once, marshalled from the rows kept ready (GuestRows.hpp).
int ManagerObject::listGuests(sd_bus_message* call) {
    return replyWith(call, rows_.rows());
}

sdbus::ObjectPath ManagerObject::exportedPath(const std::optional<GuestView>& guest,
                                              const std::string& what) const {
    if (!guest || guests_.find(guest->uuid) == guests_.end())
        throw Error(ErrorCode::NoSuchGuest, "no guest " + what);
    return sdbus::ObjectPath(guestPath(guest->uuid));
}

int ManagerObject::getGuest(sd_bus_message* call) {
    const char* nameOrUuid = nullptr;
    checked(sd_bus_message_read_basic(call, 's', &nameOrUuid), "reading GetGuest's argument");
    const std::string key = nameOrUuid;
    return replyWith(call, exportedPath(context_.guests.findGuest(key),
                                        "named or with uuid '" + excerpt(key) + "'"));
}

int ManagerObject::getGuestByDomid(sd_bus_message* call) {
    std::uint32_t domid = 0;
    checked(sd_bus_message_read_basic(call, 'u', &domid), "reading GetGuestByDomid's domid");
    return replyWith(
        call, exportedPath(context_.guests.findGuestByDomid(domid),
                           "with domain id " + std::to_string(domid) + " or a stub domain of it"));
}

int ManagerObject::attach(sd_bus_message* call) {
    AsyncReply<sdbus::ObjectPath> reply(context_.replies, call);
    try {
        std::uint32_t domid = 0;
        checked(sd_bus_message_read_basic(call, 'u', &domid), "reading Attach's domid");
        const Options options = readOptions(call, "Attach", attachOptions());
        std::optional<GuestDisplayConfig> display = toolstackDisplay(options);
        authorizeThen(context_, call, kActionManage, reply,
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
    return 1;
}

int ManagerObject::reload(sd_bus_message* call) {
    AsyncReply<> reply(context_.replies, call);
    try {
        authorizeThen(context_, call, kActionManage, reply, [service = &context_.guests, reply] {
            service->reload();
            reply.succeed();
        });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
    return 1;
}

// Reading only, so open to every caller; the files named are opened with the caller's
// rights in mind (PvGrubService), since the daemon reads as root.
int ManagerObject::pvGrubConfig(sd_bus_message* call) {
    if (!context_.pvgrub)
        throw Error(ErrorCode::NotSupported, "PV-GRUB support is not enabled in stubdomd");
    const pvgrub::ConfigRequest request =
        pvGrubConfigRequest(readOptions(call, "PvGrubConfig", pvGrubConfigOptions()));
    return replyWith(call, toDict(context_.pvgrub->config(request, currentCaller(call).uid == 0u)));
}

int ManagerObject::pvGrubCheck(sd_bus_message* call) {
    if (!context_.pvgrub)
        throw Error(ErrorCode::NotSupported, "PV-GRUB support is not enabled in stubdomd");
    const char* raw = nullptr;
    checked(sd_bus_message_read_basic(call, 's', &raw), "reading PvGrubCheck's path");
    const std::string path = raw;
    checkPvGrubPath(path);
    return replyWith(call, toDict(context_.pvgrub->check(path, currentCaller(call).uid == 0u)));
}

} // namespace stubdomd::dbus
