// The one table from D-Bus error names to the client's typed errors (fwupd's
// libfwupd/fwupd-error.c idea): a name added to the API is added here, and only here.
#include "Internal.hpp"

#include "stubdom-client/Errors.hpp"

#include "dbus/Names.hpp"

#include <cstring>

namespace stubdom {

Error::Error(std::string name, std::string message)
    : std::runtime_error(message.empty() ? name : message), name_(std::move(name)),
      message_(std::move(message)) {}

namespace {

using Thrower = void (*)(const std::string& name, const std::string& message);

template <typename E>
[[noreturn]] void throwAs(const std::string& name, const std::string& message) {
    throw E(name, message);
}

namespace names = stubdomd::dbus;

struct Mapping {
    const char* name;
    Thrower thrower;
};

// The daemon's own names, the standard ones it answers with, and what the bus or
// sd-bus answer when stubdomd is not there or does not answer in time.
const Mapping kMappings[] = {
    {names::kErrorNoSuchGuest, throwAs<NoSuchGuest>},
    {names::kErrorNotHvm, throwAs<NotHvm>},
    {names::kErrorInvalidState, throwAs<InvalidState>},
    {names::kErrorInvalidConfig, throwAs<InvalidConfig>},
    {names::kErrorInvalidDisplay, throwAs<InvalidDisplay>},
    {names::kErrorSpawnFailed, throwAs<SpawnFailed>},
    {names::kErrorTimedOut, throwAs<TimedOut>},
    {names::kErrorBusy, throwAs<Busy>},
    {names::kErrorNotSupported, throwAs<NotSupported>},
    {names::kErrorAccessDenied, throwAs<AccessDenied>},
    {"org.freedesktop.DBus.Error.InteractiveAuthorizationRequired", throwAs<AccessDenied>},
    {names::kErrorInvalidArgs, throwAs<InvalidArgs>},
    {"org.freedesktop.DBus.Error.ServiceUnknown", throwAs<ServiceUnavailable>},
    {"org.freedesktop.DBus.Error.NameHasNoOwner", throwAs<ServiceUnavailable>},
    // sd-bus reports a call that the peer left unanswered by disconnecting as NoReply
    // too, but a timeout is what it means in nearly every case.
    {"org.freedesktop.DBus.Error.NoReply", throwAs<TimedOut>},
    {"org.freedesktop.DBus.Error.Timeout", throwAs<TimedOut>},
    {"org.freedesktop.DBus.Error.TimedOut", throwAs<TimedOut>},
};

} // namespace

void throwError(const std::string& name, const std::string& message) {
    for (const auto& mapping : kMappings) {
        if (name == mapping.name) {
            mapping.thrower(name, message);
        }
    }
    throw Error(name, message);
}

namespace detail {

void throwFromDbus(const sdbus::Error& error) {
    throwError(error.getName(), error.getMessage());
}

} // namespace detail
} // namespace stubdom
