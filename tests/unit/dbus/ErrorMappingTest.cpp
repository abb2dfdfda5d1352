// Every core error reaches D-Bus under the name DESIGN.md section 5 promises.
#include "dbus/server/ErrorMapping.hpp"
#include "dbus/Names.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using namespace stubdomd;
using namespace stubdomd::dbus;

TEST_CASE("each error code maps to its documented D-Bus error name", "[dbus][errors]") {
    CHECK(errorName(ErrorCode::NoSuchGuest) == "org.xen.Stubdom.Error.NoSuchGuest");
    CHECK(errorName(ErrorCode::NotHvm) == "org.xen.Stubdom.Error.NotHvm");
    CHECK(errorName(ErrorCode::InvalidState) == "org.xen.Stubdom.Error.InvalidState");
    CHECK(errorName(ErrorCode::InvalidConfig) == "org.xen.Stubdom.Error.InvalidConfig");
    CHECK(errorName(ErrorCode::InvalidDisplay) == "org.xen.Stubdom.Error.InvalidDisplay");
    CHECK(errorName(ErrorCode::SpawnFailed) == "org.xen.Stubdom.Error.SpawnFailed");
    CHECK(errorName(ErrorCode::TimedOut) == "org.xen.Stubdom.Error.TimedOut");
    CHECK(errorName(ErrorCode::Busy) == "org.xen.Stubdom.Error.Busy");
    CHECK(errorName(ErrorCode::NotSupported) == "org.xen.Stubdom.Error.NotSupported");
    CHECK(errorName(ErrorCode::InvalidArgs) == "org.freedesktop.DBus.Error.InvalidArgs");
    CHECK(errorName(ErrorCode::AccessDenied) == "org.freedesktop.DBus.Error.AccessDenied");
    CHECK(errorName(ErrorCode::Internal) == "org.freedesktop.DBus.Error.Failed");
}

TEST_CASE("the names in Names.hpp agree with the mapping", "[dbus][errors]") {
    CHECK(errorName(ErrorCode::NoSuchGuest) == kErrorNoSuchGuest);
    CHECK(errorName(ErrorCode::NotSupported) == kErrorNotSupported);
    CHECK(errorName(ErrorCode::Busy) == kErrorBusy);
    CHECK(errorName(ErrorCode::TimedOut) == kErrorTimedOut);
    CHECK(errorName(ErrorCode::SpawnFailed) == kErrorSpawnFailed);
}

TEST_CASE("a core error keeps its message on the bus", "[dbus][errors]") {
    sdbus::Error e = toDbusError(Error(ErrorCode::NotHvm, "domain 7 is not an HVM guest"));
    CHECK(e.getName() == "org.xen.Stubdom.Error.NotHvm");
    CHECK(e.getMessage() == "domain 7 is not an HVM guest");
}

namespace {
template <typename Throw> sdbus::Error caught(Throw doThrow) {
    try {
        doThrow();
    } catch (...) {
        return currentExceptionAsDbusError();
    }
    FAIL("nothing was thrown");
    return sdbus::Error("none");
}
} // namespace

TEST_CASE("whatever a handler throws becomes an sdbus::Error", "[dbus][errors]") {
    SECTION("an sdbus::Error passes unchanged") {
        auto e = caught([] { throw sdbus::Error("org.example.Custom", "text"); });
        CHECK(e.getName() == "org.example.Custom");
        CHECK(e.getMessage() == "text");
    }
    SECTION("a core error is mapped") {
        auto e = caught([] { throw Error(ErrorCode::InvalidState, "already running"); });
        CHECK(e.getName() == "org.xen.Stubdom.Error.InvalidState");
        CHECK(e.getMessage() == "already running");
    }
    SECTION("any other exception is an internal failure, not a crash") {
        auto e = caught([] { throw std::out_of_range("map::at"); });
        CHECK(e.getName() == "org.freedesktop.DBus.Error.Failed");
        CHECK(e.getMessage() == "internal error: map::at");
    }
    SECTION("even a non-exception") {
        auto e = caught([] { throw 42; });
        CHECK(e.getName() == "org.freedesktop.DBus.Error.Failed");
    }
}

TEST_CASE("an error message is cut to a bounded size, never inside a UTF-8 character",
          "[dbus][errors]") {
    // A caller's 1 MiB key echoed back whole would let the caller make the daemon's
    // reply as large as the bus allows, and larger: the bus then drops the daemon.
    const std::string huge(1 << 20, 'x');
    sdbus::Error e = toDbusError(Error(ErrorCode::InvalidArgs, "unknown option '" + huge + "'"));
    CHECK(e.getMessage().size() <= kMaxErrorMessageBytes + 64);
    CHECK(e.getMessage().find("bytes in all") != std::string::npos);

    // "é" is two bytes: a cut after an odd count of bytes must back off to its start.
    std::string accents = "x";
    for (int i = 0; i < 3000; ++i)
        accents += "\xc3\xa9";
    const std::string cut = toDbusError(Error(ErrorCode::NoSuchGuest, accents)).getMessage();
    const std::string kept = cut.substr(0, cut.find("..."));
    CHECK(kept.size() <= kMaxErrorMessageBytes);
    CHECK((kept.size() - 1) % 2 == 0); // "x" and whole "é"s only

    sdbus::Error passed = caught([&] { throw sdbus::Error("org.example.E", huge); });
    CHECK(passed.getName() == "org.example.E");
    CHECK(passed.getMessage().size() <= kMaxErrorMessageBytes + 64);

    const std::string shortMessage = "domain 7 is not an HVM guest";
    CHECK(toDbusError(Error(ErrorCode::NotHvm, shortMessage)).getMessage() == shortMessage);
}

TEST_CASE("bytes that are no UTF-8 are shown as '?', so the error can still be sent",
          "[dbus][errors]") {
    // A domain name from xenstore need not be UTF-8; sd-bus refuses such a string.
    const std::string message =
        toDbusError(Error(ErrorCode::InvalidState, "name 'bad\xff\xfe' \xc3\xa9")).getMessage();
    CHECK(message == "name 'bad"
                     "?"
                     "?' \xc3\xa9");
}
