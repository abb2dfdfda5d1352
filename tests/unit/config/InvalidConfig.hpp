// The message of the Error(InvalidConfig) a parse throws, for tests that compare it.
#pragma once

#include "core/Errors.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <string>

namespace stubdomd::test {

// Fails the test when `parse` throws nothing, or an Error with another code.
inline std::string invalidConfigMessage(const std::function<void()>& parse,
                                        const std::string& input) {
    try {
        parse();
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::InvalidConfig);
        return e.what();
    }
    FAIL("no error for: " << input);
    return {};
}

} // namespace stubdomd::test
