// How the fake xl ends a command early: the message is already on stderr (in xl's or
// libxl's words); main() turns this into the exit status real xl would use.
#pragma once

#include <stdexcept>
#include <string>

namespace xensim {

struct XlError : std::runtime_error {
    XlError(int status, const std::string& what) : std::runtime_error(what), status(status) {}
    int status;
};

// Real xl's statuses: 1 (EXIT_FAILURE) for bad arguments, unknown domains and config
// errors; 3 (-ERROR_FAIL) when libxl fails to create a domain.
constexpr int kExitFailure = 1;
constexpr int kExitCreateFailed = 3;

[[noreturn]] void fail(int status, const std::string& message);

} // namespace xensim
