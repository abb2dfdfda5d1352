#include "dbus/server/GuestObject.hpp"

#include "core/ConsoleLinks.hpp"
#include "core/ConsoleTail.hpp"
#include "core/Display.hpp"
#include "core/Excerpt.hpp"
#include "dbus/Names.hpp"
#include "dbus/server/ChangedProperties.hpp"
#include "dbus/server/ObjectPaths.hpp"
#include "dbus/server/Options.hpp"
#include "dbus/server/VtableGlue.hpp"

#include <array>
#include <utility>

namespace stubdomd::dbus {

namespace {

constexpr std::array<std::pair<GuestField, const char*>, 15> kProperties{{
    {FieldName, "Name"},
    {FieldUuid, "UUID"},
    {FieldDomId, "DomId"},
    {FieldStubDomId, "StubDomId"},
    {FieldState, "State"},
    {FieldStateReason, "StateReason"},
    {FieldFlavour, "Flavour"},
    {FieldDisplayMode, "DisplayMode"},
    {FieldDisplayAddress, "DisplayAddress"},
    {FieldDisplayPort, "DisplayPort"},
    {FieldRestarts, "Restarts"},
    {FieldLastError, "LastError"},
    {FieldStubMemory, "StubMemoryMiB"},
    {FieldStubMemoryUsed, "StubMemoryUsedKiB"},
    {FieldStubCpuTime, "StubCpuTimeNs"},
}};

constexpr std::uint64_t kProperty = SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE;

#define GUEST_PROPERTY(member, signature, type, getter)                                            \
    SD_BUS_PROPERTY(member, signature, (V::property<type, &GuestObject::getter>), 0, kProperty)

using V = Vtable<GuestObject>;

// The members, signatures and argument names of dbus/org.xen.Stubdom.Guest.xml.
const sd_bus_vtable kVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_NAMES("Start", "a{sv}", SD_BUS_PARAM(options), "", ,
                             V::method<&GuestObject::start>, kAnyCaller),
    SD_BUS_METHOD_WITH_NAMES("Stop", "a{sv}", SD_BUS_PARAM(options), "", ,
                             V::method<&GuestObject::stop>, kAnyCaller),
    SD_BUS_METHOD_WITH_NAMES("Restart", "a{sv}", SD_BUS_PARAM(options), "", ,
                             V::method<&GuestObject::restart>, kAnyCaller),
    SD_BUS_METHOD("Pause", "", "", V::method<&GuestObject::pause>, kAnyCaller),
    SD_BUS_METHOD("Resume", "", "", V::method<&GuestObject::resume>, kAnyCaller),
    SD_BUS_METHOD_WITH_NAMES("GetDisplay", "", , "a{sv}", SD_BUS_PARAM(display),
                             V::method<&GuestObject::getDisplay>, kAnyCaller),
    SD_BUS_METHOD_WITH_NAMES("SetDisplay", "sa{sv}", SD_BUS_PARAM(mode) SD_BUS_PARAM(options), "", ,
                             V::method<&GuestObject::setDisplay>, kAnyCaller),
    SD_BUS_METHOD_WITH_NAMES("SetDisplayPassword", "s", SD_BUS_PARAM(password), "", ,
                             V::method<&GuestObject::setDisplayPassword>, kAnyCaller),
    SD_BUS_METHOD_WITH_NAMES("GetConsoleLog", "u", SD_BUS_PARAM(lines), "as", SD_BUS_PARAM(log),
                             V::method<&GuestObject::getConsoleLog>, kAnyCaller),
    SD_BUS_METHOD_WITH_NAMES("OpenConsoleLog", "", , "h", SD_BUS_PARAM(fd),
                             V::method<&GuestObject::openConsoleLog>, kAnyCaller),
    SD_BUS_METHOD_WITH_NAMES("OpenDisplay", "a{sv}", SD_BUS_PARAM(options), "h", SD_BUS_PARAM(fd),
                             V::method<&GuestObject::openDisplay>, kAnyCaller),
    SD_BUS_METHOD_WITH_NAMES("OpenConsole", "sa{sv}", SD_BUS_PARAM(name) SD_BUS_PARAM(options),
                             "hs", SD_BUS_PARAM(fd) SD_BUS_PARAM(path),
                             V::method<&GuestObject::openConsole>, kAnyCaller),
    SD_BUS_METHOD_WITH_NAMES("WatchResources", "", , "h", SD_BUS_PARAM(fd),
                             V::method<&GuestObject::watchResources>, kAnyCaller),
    GUEST_PROPERTY("Name", "s", std::string, name),
    GUEST_PROPERTY("UUID", "s", std::string, uuid),
    GUEST_PROPERTY("DomId", "u", std::uint32_t, domId),
    GUEST_PROPERTY("StubDomId", "u", std::uint32_t, stubDomId),
    GUEST_PROPERTY("State", "s", std::string, state),
    GUEST_PROPERTY("StateReason", "s", std::string, stateReason),
    GUEST_PROPERTY("Flavour", "s", std::string, flavour),
    GUEST_PROPERTY("DisplayMode", "s", std::string, displayMode),
    GUEST_PROPERTY("DisplayAddress", "s", std::string, displayAddress),
    GUEST_PROPERTY("DisplayPort", "i", std::int32_t, displayPort),
    GUEST_PROPERTY("Restarts", "u", std::uint32_t, restarts),
    GUEST_PROPERTY("LastError", "s", std::string, lastError),
    GUEST_PROPERTY("StubMemoryMiB", "t", std::uint64_t, stubMemoryMiB),
    GUEST_PROPERTY("StubMemoryUsedKiB", "t", std::uint64_t, stubMemoryUsedKiB),
    GUEST_PROPERTY("StubCpuTimeNs", "t", std::uint64_t, stubCpuTimeNs),
    SD_BUS_SIGNAL_WITH_NAMES("StubFailed", "ss", SD_BUS_PARAM(cause) SD_BUS_PARAM(message), 0),
    SD_BUS_SIGNAL_WITH_NAMES("DisplayClientChanged", "bu",
                             SD_BUS_PARAM(connected) SD_BUS_PARAM(clients), 0),
    SD_BUS_VTABLE_END,
};

#undef GUEST_PROPERTY

} // namespace

const sd_bus_vtable* GuestObject::vtable() {
    return kVtable;
}

std::string GuestObject::path() const {
    return guestPath(view_.uuid);
}

void GuestObject::update(sd_bus* bus, const GuestView& view, std::uint32_t fields) {
    view_ = view;
    // sd-bus reads the values through the getters, hence view_ first.
    emitPropertiesChanged(bus, path(), kGuestInterface, changedProperties(kProperties, fields));
}

void GuestObject::emitStubFailed(sd_bus* bus, const std::string& cause,
                                 const std::string& message) {
    emitSignal(bus, path().c_str(), kGuestInterface, "StubFailed", cause, message);
}

void GuestObject::emitDisplayClientChanged(sd_bus* bus, bool connected, unsigned clients) {
    emitSignal(bus, path().c_str(), kGuestInterface, "DisplayClientChanged", connected,
               static_cast<std::uint32_t>(clients));
}

int GuestObject::runCommand(sd_bus_message* call, const char* method, bool options,
                            Command command) {
    AsyncReply<> reply(context_.replies, call);
    try {
        if (options)
            readOptions(call, method, noOptions());
        authorizeThen(context_, call, kActionManage, reply,
                      [service = &context_.guests, uuid = view_.uuid, reply, command] {
                          (service->*command)(uuid, reply.completion());
                      });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
    return 1;
}

int GuestObject::runStart(sd_bus_message* call, const char* method, StartCommand command) {
    AsyncReply<> reply(context_.replies, call);
    try {
        const StartOptions parsed =
            startOptions(method, readOptions(call, method, startOptionKeys()));
        authorizeThen(context_, call, kActionManage, reply,
                      [service = &context_.guests, uuid = view_.uuid, reply, command, parsed] {
                          (service->*command)(uuid, parsed, reply.completion());
                      });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
    return 1;
}

int GuestObject::start(sd_bus_message* call) {
    return runStart(call, "Start", &GuestService::startWith);
}

int GuestObject::stop(sd_bus_message* call) {
    return runCommand(call, "Stop", true, &GuestService::stop);
}

int GuestObject::restart(sd_bus_message* call) {
    return runStart(call, "Restart", &GuestService::restartWith);
}

int GuestObject::pause(sd_bus_message* call) {
    return runCommand(call, "Pause", false, &GuestService::pause);
}

int GuestObject::resume(sd_bus_message* call) {
    return runCommand(call, "Resume", false, &GuestService::resume);
}

int GuestObject::getDisplay(sd_bus_message* call) {
    AsyncReply<Dict> reply(context_.replies, call);
    try {
        // password-set is no property, so no change notification keeps it current in
        // view_: the service answers with its current view (asking a QMP device model
        // where it listens first). Whether a password is set, never the password.
        context_.guests.getDisplay(view_.uuid, [reply](const std::optional<Error>& error,
                                                       const GuestView& v) {
            if (error) {
                reply.fail(*error);
                return;
            }
            reply.succeed({
                {"mode", sdbus::Variant(std::string(toString(v.displayMode)))},
                {"address", sdbus::Variant(v.displayAddress)},
                {"port", sdbus::Variant(v.displayPort)},
                {"password-set", sdbus::Variant(v.displayPasswordSet)},
                {"uri", sdbus::Variant(displayUri(v.displayMode, v.displayAddress, v.displayPort))},
            });
        });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
    return 1;
}

int GuestObject::setDisplay(sd_bus_message* call) {
    AsyncReply<> reply(context_.replies, call);
    try {
        const char* mode = nullptr;
        checked(sd_bus_message_read_basic(call, 's', &mode), "reading SetDisplay's mode");
        const std::string modeName = mode;
        const DisplayChoice choice =
            displayChoice(modeName, readOptions(call, "SetDisplay", setDisplayOptions()));
        authorizeThen(context_, call, kActionManage, reply,
                      [service = &context_.guests, uuid = view_.uuid, reply, choice] {
                          service->setDisplay(uuid, choice);
                          reply.succeed();
                      });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
    return 1;
}

int GuestObject::getConsoleLog(sd_bus_message* call) {
    AsyncReply<std::vector<std::string>> reply(context_.replies, call);
    try {
        std::uint32_t lines = 0;
        checked(sd_bus_message_read_basic(call, 'u', &lines), "reading GetConsoleLog's lines");
        // A bound keeps the reply far below the bus's message limit (10000 lines of at
        // most 1 KiB).
        constexpr std::uint32_t kMaxLines = 10000;
        if (lines == 0 || lines > kMaxLines)
            throw Error(ErrorCode::InvalidArgs, "GetConsoleLog: lines must be 1 to " +
                                                    std::to_string(kMaxLines) + ", got " +
                                                    std::to_string(lines));
        const std::string log = context_.guests.consoleLog(view_.uuid);
        authorizeThen(context_, call, kActionManage, reply,
                      [reply, log, lines] { reply.succeed(lastConsoleLines(log, lines)); });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
    return 1;
}

int GuestObject::openConsoleLog(sd_bus_message* call) {
    AsyncReply<UniqueFd> reply(context_.replies, call);
    try {
        context_.guests.consoleLog(view_.uuid); // NoSuchGuest, NotSupported before polkit
        authorizeThen(context_, call, kActionManage, reply,
                      [service = &context_.guests, uuid = view_.uuid, reply] {
                          // The reply sends a duplicate; ours closes when this returns.
                          reply.succeed(UniqueFd(service->followConsoleLog(uuid)));
                      });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
    return 1;
}

int GuestObject::openDisplay(sd_bus_message* call) {
    AsyncReply<UniqueFd> reply(context_.replies, call);
    try {
        readOptions(call, "OpenDisplay", noOptions());
        authorizeThen(context_, call, kActionDisplay, reply,
                      [service = &context_.guests, uuid = view_.uuid, reply] {
                          service->openDisplay(uuid,
                                               [reply](const std::optional<Error>& error, int fd) {
                                                   if (error) {
                                                       reply.fail(*error);
                                                       return;
                                                   }
                                                   // The reply sends a duplicate (or none, if it is
                                                   // dropped); ours closes when this returns.
                                                   reply.succeed(UniqueFd(fd));
                                               });
                      });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
    return 1;
}

int GuestObject::openConsole(sd_bus_message* call) {
    AsyncReply<UniqueFd, std::string> reply(context_.replies, call);
    try {
        // Bad input is refused before polkit is asked, and before anything is opened.
        const char* raw = nullptr;
        checked(sd_bus_message_read_basic(call, 's', &raw), "reading OpenConsole's name");
        const std::string name = raw;
        readOptions(call, "OpenConsole", noOptions());
        consoleWritable(name);
        authorizeThen(context_, call, kActionManage, reply,
                      [service = &context_.guests, uuid = view_.uuid, reply, name] {
                          const auto opened = service->openConsole(uuid, name);
                          // The reply sends a duplicate of the master; ours closes when
                          // this returns.
                          reply.succeed(UniqueFd(opened.fd), opened.path);
                      });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
    return 1;
}

// Open, as the properties it keeps current are; answered at once, an error thrown for
// the vtable's glue to send.
int GuestObject::watchResources(sd_bus_message* call) {
    if (!context_.resources)
        throw Error(ErrorCode::NotSupported, "resource sampling is not supported");
    return replyWith(call, UniqueFd(context_.resources->open(view_.uuid)));
}

int GuestObject::setDisplayPassword(sd_bus_message* call) {
    AsyncReply<> reply(context_.replies, call);
    try {
        const char* raw = nullptr;
        checked(sd_bus_message_read_basic(call, 's', &raw), "reading the password");
        authorizeThen(
            context_, call, kActionDisplay, reply,
            [service = &context_.guests, uuid = view_.uuid, reply, password = std::string(raw)] {
                service->setDisplayPassword(uuid, password, reply.completion());
            });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
    return 1;
}

} // namespace stubdomd::dbus
