// An environment failure as the core's typed error: "<what>: <strerror(errno)>".
#pragma once

#include "core/Errors.hpp"

#include <cerrno>
#include <cstring>
#include <string>

namespace stubdomd {

inline Error systemError(const std::string& what, int err = errno) {
    return Error(ErrorCode::Internal, what + ": " + std::strerror(err));
}

} // namespace stubdomd
