// Typed errors of libstubdom-client. The daemon answers with D-Bus error names
// (org.xen.Stubdom.Error.*, org.freedesktop.DBus.Error.*); the client turns each name
// back into one class here, so callers catch what they can handle and never parse names.
#pragma once

#include "stubdom-client/Export.hpp"

#include <stdexcept>
#include <string>

namespace stubdom {

// Base of every error the client throws: the D-Bus error name and its message.
class STUBDOM_CLIENT_API Error : public std::runtime_error {
public:
    Error(std::string name, std::string message);

    const std::string& name() const noexcept { return name_; }
    const std::string& message() const noexcept { return message_; }

private:
    std::string name_;
    std::string message_;
};

// One class per error name of the API (DESIGN.md section 5).
#define STUBDOM_CLIENT_ERROR(Class, Base)                                                          \
    class STUBDOM_CLIENT_API Class : public Base {                                                 \
    public:                                                                                        \
        using Base::Base;                                                                          \
    };

STUBDOM_CLIENT_ERROR(NoSuchGuest, Error)
STUBDOM_CLIENT_ERROR(NotHvm, Error)
STUBDOM_CLIENT_ERROR(InvalidState, Error)
STUBDOM_CLIENT_ERROR(InvalidConfig, Error)
STUBDOM_CLIENT_ERROR(InvalidDisplay, Error)
STUBDOM_CLIENT_ERROR(SpawnFailed, Error)
STUBDOM_CLIENT_ERROR(TimedOut, Error)
STUBDOM_CLIENT_ERROR(Busy, Error)
STUBDOM_CLIENT_ERROR(NotSupported, Error)
STUBDOM_CLIENT_ERROR(AccessDenied, Error)
STUBDOM_CLIENT_ERROR(InvalidArgs, Error)
// stubdomd does not own org.xen.Stubdom on the bus (not running, or gone mid-call).
STUBDOM_CLIENT_ERROR(ServiceUnavailable, Error)
// The bus itself cannot be reached; a ServiceUnavailable too, since the daemon cannot be.
STUBDOM_CLIENT_ERROR(BusUnavailable, ServiceUnavailable)
// A helper name that no helper object carries (the API has no error name for it:
// the daemon answers InvalidArgs for a helper that is gone).
STUBDOM_CLIENT_ERROR(NoSuchHelper, InvalidArgs)

#undef STUBDOM_CLIENT_ERROR

// Throws the class that `name` maps to (Error itself for a name the table does not know).
[[noreturn]] STUBDOM_CLIENT_API void throwError(const std::string& name,
                                                const std::string& message);

} // namespace stubdom
