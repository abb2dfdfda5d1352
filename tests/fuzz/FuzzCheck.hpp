// What the fuzz targets hold the code to. Bad input may only be refused with a typed
// Error of the kinds the function documents, with a message; anything else (another
// exception, an error of another kind, a result that does not hold up) is a finding:
// the target aborts, and libFuzzer keeps the input as a crash.
#pragma once

#include "core/Errors.hpp"
#include "core/Log.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>

namespace stubdomd::fuzz {

[[noreturn]] inline void finding(const std::string& what) {
    std::fprintf(stderr, "fuzz finding: %s\n", what.c_str());
    std::abort();
}

inline void expectRefusal(const Error& error, std::initializer_list<ErrorCode> allowed,
                          const char* function) {
    bool known = false;
    for (const ErrorCode code : allowed)
        known = known || error.code() == code;
    if (!known)
        finding(std::string(function) + " failed with " + std::string(toString(error.code())) +
                ": " + error.what());
    if (error.what()[0] == '\0')
        finding(std::string(function) + " failed without saying why");
}

inline std::string inputText(const std::uint8_t* data, std::size_t size) {
    return std::string(reinterpret_cast<const char*>(data), size);
}

// Warnings about odd input are the point of some readers; printed for every input they
// would drown libFuzzer's own output.
inline void silenceLog() {
    setLogSink([](LogLevel, const LogFields&, const std::string&) {});
}

} // namespace stubdomd::fuzz
