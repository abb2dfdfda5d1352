// The one place where the core's errors become D-Bus errors. sdbus-c++ 1.2.0 lets
// only sdbus::Error out of a handler (anything else terminates the daemon), so every
// handler ends in these.
#pragma once

#include "core/Errors.hpp"

#include <sdbus-c++/Error.h>

#include <cstddef>
#include <string>

namespace stubdomd::dbus {

// org.xen.Stubdom.Error.<Code>, or the org.freedesktop.DBus.Error name for
// InvalidArgs, AccessDenied and Internal (Failed).
std::string errorName(ErrorCode code);

// Messages are cut to kMaxErrorMessageBytes (excerpt()): whatever a caller's argument
// made of them, the reply stays far below the bus's message limit.
inline constexpr std::size_t kMaxErrorMessageBytes = 4096;

sdbus::Error toDbusError(const Error& error);

// For catch (...): the exception in flight as an sdbus::Error. An sdbus::Error is
// passed on, a stubdomd::Error is mapped, anything else is an internal failure
// (org.freedesktop.DBus.Error.Failed, logged, since it is a bug).
sdbus::Error currentExceptionAsDbusError() noexcept;

} // namespace stubdomd::dbus
