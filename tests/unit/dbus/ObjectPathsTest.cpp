// Object paths of guests and helpers are valid and follow DESIGN.md section 5.
#include "dbus/server/ObjectPaths.hpp"

#include <catch2/catch.hpp>

#include <systemd/sd-bus.h>

#include <cstdlib>

using namespace stubdomd::dbus;

TEST_CASE("a guest's path is its uuid, path-encoded, and decodes back", "[dbus][paths]") {
    const std::string uuid = "3f2a9c1e-0b7d-4e55-9a61-2c8f0e4d7b10";
    const std::string path = guestPath(uuid);
    CHECK(sd_bus_object_path_is_valid(path.c_str()));
    CHECK(path.rfind("/org/xen/Stubdom/guest/", 0) == 0);
    char* decoded = nullptr;
    REQUIRE(sd_bus_path_decode(path.c_str(), "/org/xen/Stubdom/guest", &decoded) > 0);
    CHECK(std::string(decoded) == uuid);
    std::free(decoded);
}

TEST_CASE("guestUuidOf reads a guest path back, and nothing from any other path", "[dbus][paths]") {
    CHECK(guestUuidOf(guestPath("3f2a9c1e-0b7d").c_str()) ==
          std::optional<std::string>("3f2a9c1e-0b7d"));
    CHECK(guestUuidOf(guestPath("a/b c").c_str()) == std::optional<std::string>("a/b c"));
    CHECK_FALSE(guestUuidOf("/org/xen/Stubdom/guest").has_value());
    CHECK_FALSE(guestUuidOf("/org/xen/Stubdom/guest/a/b").has_value());
    CHECK_FALSE(guestUuidOf("/org/xen/Stubdom").has_value());
}

TEST_CASE("an empty or odd uuid still gives a valid path", "[dbus][paths]") {
    CHECK(sd_bus_object_path_is_valid(guestPath("").c_str()));
    CHECK(sd_bus_object_path_is_valid(guestPath("a/b c").c_str()));
}

TEST_CASE("a helper's path writes '-' as '_'", "[dbus][paths]") {
    CHECK(helperPath("fs-backend") == "/org/xen/Stubdom/helper/fs_backend");
    CHECK(helperPath("plain") == "/org/xen/Stubdom/helper/plain");
}

TEST_CASE("a helper name with other characters still gives a valid path", "[dbus][paths]") {
    CHECK(helperPath("a.b") == "/org/xen/Stubdom/helper/a_2eb");
    CHECK(sd_bus_object_path_is_valid(helperPath("").c_str()));
    CHECK(sd_bus_object_path_is_valid(helperPath("x/y z").c_str()));
}
