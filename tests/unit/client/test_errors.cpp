// The client's error table: every name of the API becomes its own class, and the
// bus's own answers for a missing daemon or a timeout become the classes callers test.
#include <stubdom-client/Errors.hpp>

#include "dbus/Names.hpp"

#include <catch2/catch.hpp>

namespace names = stubdomd::dbus;

template <typename E> void checkMapsTo(const std::string& name) {
    INFO(name);
    try {
        stubdom::throwError(name, "the message");
        FAIL("nothing thrown");
    } catch (const E& e) {
        CHECK(e.name() == name);
        CHECK(e.message() == "the message");
        CHECK(std::string(e.what()) == "the message");
    }
}

TEST_CASE("every error name of the API maps to its class", "[errors]") {
    checkMapsTo<stubdom::NoSuchGuest>(names::kErrorNoSuchGuest);
    checkMapsTo<stubdom::NotHvm>(names::kErrorNotHvm);
    checkMapsTo<stubdom::InvalidState>(names::kErrorInvalidState);
    checkMapsTo<stubdom::InvalidConfig>(names::kErrorInvalidConfig);
    checkMapsTo<stubdom::InvalidDisplay>(names::kErrorInvalidDisplay);
    checkMapsTo<stubdom::SpawnFailed>(names::kErrorSpawnFailed);
    checkMapsTo<stubdom::TimedOut>(names::kErrorTimedOut);
    checkMapsTo<stubdom::Busy>(names::kErrorBusy);
    checkMapsTo<stubdom::NotSupported>(names::kErrorNotSupported);
    checkMapsTo<stubdom::AccessDenied>(names::kErrorAccessDenied);
    checkMapsTo<stubdom::InvalidArgs>(names::kErrorInvalidArgs);
}

TEST_CASE("the bus's answers for an absent or silent daemon", "[errors]") {
    checkMapsTo<stubdom::ServiceUnavailable>("org.freedesktop.DBus.Error.ServiceUnknown");
    checkMapsTo<stubdom::ServiceUnavailable>("org.freedesktop.DBus.Error.NameHasNoOwner");
    checkMapsTo<stubdom::TimedOut>("org.freedesktop.DBus.Error.NoReply");
    checkMapsTo<stubdom::TimedOut>("org.freedesktop.DBus.Error.Timeout");
}

TEST_CASE("an unknown name is a plain stubdom::Error that keeps its name", "[errors]") {
    try {
        stubdom::throwError("org.example.Weird", "");
        FAIL("nothing thrown");
    } catch (const stubdom::NoSuchGuest&) {
        FAIL("mapped to a class it is not");
    } catch (const stubdom::Error& e) {
        CHECK(e.name() == "org.example.Weird");
        CHECK(std::string(e.what()) == "org.example.Weird"); // no message: the name
    }
}

TEST_CASE("every typed error is a stubdom::Error", "[errors]") {
    STATIC_REQUIRE(std::is_base_of_v<stubdom::Error, stubdom::ServiceUnavailable>);
    STATIC_REQUIRE(std::is_base_of_v<stubdom::ServiceUnavailable, stubdom::BusUnavailable>);
    STATIC_REQUIRE(std::is_base_of_v<stubdom::InvalidArgs, stubdom::NoSuchHelper>);
}
