#include "dbus/server/GuestObject.hpp"

#include "core/ConsoleLinks.hpp"
#include "core/ConsoleTail.hpp"
#include "core/Display.hpp"
#include "core/Excerpt.hpp"
#include "dbus/Names.hpp"
#include "dbus/server/ChangedProperties.hpp"
#include "dbus/server/ObjectPaths.hpp"
#include "dbus/server/Options.hpp"

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

} // namespace

GuestObject::GuestObject(sdbus::IConnection& connection, ServerContext& context,
                         const GuestView& view)
    : AdaptorInterfaces(connection, guestPath(view.uuid)), context_(context), view_(view) {
    registerAdaptor();
}

GuestObject::~GuestObject() {
    unregisterAdaptor();
}

void GuestObject::update(const GuestView& view, std::uint32_t fields) {
    view_ = view;
    std::vector<std::string> names = changedProperties(kProperties, fields);
    if (!names.empty())
        // sd-bus reads the values through the getters, hence view_ first.
        emitPropertiesChangedSignal(kGuestInterface, names);
}

void GuestObject::runCommand(const char* method, sdbus::Result<>&& result,
                             const std::map<std::string, sdbus::Variant>* options,
                             Command command) {
    AsyncReply<> reply(context_.replies, std::move(result));
    try {
        if (options)
            checkOptions(method, *options, noOptions());
        authorizeThen(context_, getObject(), kActionManage, reply,
                      [service = &context_.guests, uuid = view_.uuid, reply, command] {
                          (service->*command)(uuid, reply.completion());
                      });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
}

void GuestObject::runStart(const char* method, sdbus::Result<>&& result,
                           const std::map<std::string, sdbus::Variant>& options,
                           StartCommand command) {
    AsyncReply<> reply(context_.replies, std::move(result));
    try {
        const StartOptions parsed = startOptions(method, options);
        authorizeThen(context_, getObject(), kActionManage, reply,
                      [service = &context_.guests, uuid = view_.uuid, reply, command, parsed] {
                          (service->*command)(uuid, parsed, reply.completion());
                      });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
}

void GuestObject::Start(sdbus::Result<>&& result, std::map<std::string, sdbus::Variant> options) {
    runStart("Start", std::move(result), options, &GuestService::startWith);
}

void GuestObject::Stop(sdbus::Result<>&& result, std::map<std::string, sdbus::Variant> options) {
    runCommand("Stop", std::move(result), &options, &GuestService::stop);
}

void GuestObject::Restart(sdbus::Result<>&& result, std::map<std::string, sdbus::Variant> options) {
    runStart("Restart", std::move(result), options, &GuestService::restartWith);
}

void GuestObject::Pause(sdbus::Result<>&& result) {
    runCommand("Pause", std::move(result), nullptr, &GuestService::pause);
}

void GuestObject::Resume(sdbus::Result<>&& result) {
    runCommand("Resume", std::move(result), nullptr, &GuestService::resume);
}

void GuestObject::GetDisplay(sdbus::Result<std::map<std::string, sdbus::Variant>>&& result) {
    AsyncReply<std::map<std::string, sdbus::Variant>> reply(context_.replies, std::move(result));
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
}

void GuestObject::SetDisplay(sdbus::Result<>&& result, std::string mode,
                             std::map<std::string, sdbus::Variant> options) {
    AsyncReply<> reply(context_.replies, std::move(result));
    try {
        const DisplayChoice choice = displayChoice(mode, options);
        authorizeThen(context_, getObject(), kActionManage, reply,
                      [service = &context_.guests, uuid = view_.uuid, reply, choice] {
                          service->setDisplay(uuid, choice);
                          reply.succeed();
                      });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
}

void GuestObject::GetConsoleLog(sdbus::Result<std::vector<std::string>>&& result, uint32_t lines) {
    AsyncReply<std::vector<std::string>> reply(context_.replies, std::move(result));
    try {
        // A bound keeps the reply far below the bus's message limit (10000 lines of at
        // most 1 KiB).
        constexpr uint32_t kMaxLines = 10000;
        if (lines == 0 || lines > kMaxLines)
            throw Error(ErrorCode::InvalidArgs, "GetConsoleLog: lines must be 1 to " +
                                                    std::to_string(kMaxLines) + ", got " +
                                                    std::to_string(lines));
        const std::string log = context_.guests.consoleLog(view_.uuid);
        authorizeThen(context_, getObject(), kActionManage, reply,
                      [reply, log, lines] { reply.succeed(lastConsoleLines(log, lines)); });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
}

void GuestObject::OpenConsoleLog(sdbus::Result<sdbus::UnixFd>&& result) {
    AsyncReply<sdbus::UnixFd> reply(context_.replies, std::move(result));
    try {
        context_.guests.consoleLog(view_.uuid); // NoSuchGuest, NotSupported before polkit
        authorizeThen(context_, getObject(), kActionManage, reply,
                      [service = &context_.guests, uuid = view_.uuid, reply] {
                          reply.succeed(
                              sdbus::UnixFd(service->followConsoleLog(uuid), sdbus::adopt_fd));
                      });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
}

void GuestObject::OpenDisplay(sdbus::Result<sdbus::UnixFd>&& result,
                              std::map<std::string, sdbus::Variant> options) {
    AsyncReply<sdbus::UnixFd> reply(context_.replies, std::move(result));
    try {
        checkOptions("OpenDisplay", options, noOptions());
        authorizeThen(context_, getObject(), kActionDisplay, reply,
                      [service = &context_.guests, uuid = view_.uuid, reply] {
                          service->openDisplay(
                              uuid, [reply](const std::optional<Error>& error, int fd) {
                                  if (error) {
                                      reply.fail(*error);
                                      return;
                                  }
                                  // Adopted: the reply's message owns it and closes ours
                                  // once sent (or once the reply is dropped).
                                  reply.succeed(sdbus::UnixFd(fd, sdbus::adopt_fd));
                              });
                      });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
}

void GuestObject::OpenConsole(sdbus::Result<sdbus::UnixFd, std::string>&& result, std::string name,
                              std::map<std::string, sdbus::Variant> options) {
    AsyncReply<sdbus::UnixFd, std::string> reply(context_.replies, std::move(result));
    try {
        // Bad input is refused before polkit is asked, and before anything is opened.
        checkOptions("OpenConsole", options, noOptions());
        consoleWritable(name);
        authorizeThen(context_, getObject(), kActionManage, reply,
                      [service = &context_.guests, uuid = view_.uuid, reply, name] {
                          const auto opened = service->openConsole(uuid, name);
                          // Adopted: the reply's message owns the master and closes ours
                          // once sent (or once the reply is dropped).
                          reply.succeed(sdbus::UnixFd(opened.fd, sdbus::adopt_fd), opened.path);
                      });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
}

// Open, as the properties it keeps current are; a synchronous call, so an error is thrown
// as sdbus::Error for sd-bus to send.
sdbus::UnixFd GuestObject::WatchResources() {
    try {
        if (!context_.resources)
            throw Error(ErrorCode::NotSupported, "resource sampling is not supported");
        return sdbus::UnixFd(context_.resources->open(view_.uuid), sdbus::adopt_fd);
    } catch (...) {
        throw currentExceptionAsDbusError();
    }
}

void GuestObject::SetDisplayPassword(sdbus::Result<>&& result, std::string password) {
    AsyncReply<> reply(context_.replies, std::move(result));
    try {
        authorizeThen(
            context_, getObject(), kActionDisplay, reply,
            [service = &context_.guests, uuid = view_.uuid, reply, password = std::move(password)] {
                service->setDisplayPassword(uuid, password, reply.completion());
            });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
}

// Getters read the cached view; nothing in them can throw but allocation.
std::string GuestObject::Name() {
    return view_.name;
}
std::string GuestObject::UUID() {
    return view_.uuid;
}
uint32_t GuestObject::DomId() {
    return view_.domid;
}
uint32_t GuestObject::StubDomId() {
    return view_.stubDomid;
}
std::string GuestObject::State() {
    return std::string(toString(view_.state));
}
std::string GuestObject::StateReason() {
    return view_.stateReason;
}
std::string GuestObject::Flavour() {
    return std::string(toString(view_.flavour));
}
std::string GuestObject::DisplayMode() {
    return std::string(toString(view_.displayMode));
}
std::string GuestObject::DisplayAddress() {
    return view_.displayAddress;
}
int32_t GuestObject::DisplayPort() {
    return view_.displayPort;
}
uint32_t GuestObject::Restarts() {
    return view_.restarts;
}
std::string GuestObject::LastError() {
    return view_.lastError;
}
uint64_t GuestObject::StubMemoryMiB() {
    return view_.stubMemoryMiB;
}
uint64_t GuestObject::StubMemoryUsedKiB() {
    return view_.stubMemoryUsedKiB;
}
uint64_t GuestObject::StubCpuTimeNs() {
    return view_.stubCpuTimeNs;
}

} // namespace stubdomd::dbus
