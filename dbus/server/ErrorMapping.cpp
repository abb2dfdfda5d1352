#include "dbus/server/ErrorMapping.hpp"

#include "core/Excerpt.hpp"
#include "core/Log.hpp"
#include "dbus/Names.hpp"

#include <exception>

namespace stubdomd::dbus {

std::string errorName(ErrorCode code) {
    switch (code) {
    case ErrorCode::InvalidArgs:
        return kErrorInvalidArgs;
    case ErrorCode::AccessDenied:
        return kErrorAccessDenied;
    case ErrorCode::Internal:
        return kErrorFailed;
    default:
        // Our own codes are named as the enum is, so the names cannot drift apart.
        return std::string(kErrorPrefix) + std::string(toString(code));
    }
}

namespace {

sdbus::Error bounded(const std::string& name, const std::string& message) {
    return sdbus::Error(name, excerpt(message, kMaxErrorMessageBytes));
}

} // namespace

sdbus::Error toDbusError(const Error& error) {
    return bounded(errorName(error.code()), error.what());
}

sdbus::Error currentExceptionAsDbusError() noexcept {
    try {
        try {
            throw;
        } catch (const sdbus::Error& e) {
            return bounded(e.getName(), e.getMessage());
        } catch (const Error& e) {
            return toDbusError(e);
        } catch (const std::exception& e) {
            logError({}, std::string("D-Bus handler failed: ") + e.what());
            return sdbus::Error(kErrorFailed, std::string("internal error: ") + e.what());
        } catch (...) {
            logError({}, "D-Bus handler failed with an unknown exception");
            return sdbus::Error(kErrorFailed, "internal error");
        }
    } catch (...) {
        // Building the error itself failed (out of memory): still an sdbus::Error.
        return sdbus::Error(kErrorFailed);
    }
}

} // namespace stubdomd::dbus
