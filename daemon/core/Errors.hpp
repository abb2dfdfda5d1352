// Typed errors inside the daemon; the D-Bus edge maps each code to an error name
// (org.xen.Stubdom.Error.<Code>, or the org.freedesktop.DBus.Error ones).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace stubdomd {

enum class ErrorCode {
    NoSuchGuest,
    NotHvm,
    InvalidState,
    InvalidConfig,
    InvalidDisplay,
    SpawnFailed,
    TimedOut,
    Busy,
    NotSupported,
    InvalidArgs,  // org.freedesktop.DBus.Error.InvalidArgs
    AccessDenied, // org.freedesktop.DBus.Error.AccessDenied
    Internal,     // a bug or an environment failure (xenstore gone, fork failed)
};

std::string_view toString(ErrorCode code);

class Error : public std::runtime_error {
public:
    Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    ErrorCode code() const noexcept { return code_; }

private:
    ErrorCode code_;
};

} // namespace stubdomd
