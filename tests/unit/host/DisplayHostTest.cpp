// The stored display choices: what SetDisplay stored comes back, in a file only root reads;
// a file stubdomd did not write is refused without quoting it (it may hold a password).
#include "host/DisplayHost.hpp"

#include "config/TempDir.hpp"
#include "core/Errors.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

using namespace stubdomd;
using stubdomd::test::TempDir;

namespace {
const std::string kUuid = "0a1b2c3d-0000-4000-8000-00000000abcd";
}

TEST_CASE("a stored display choice and password come back as stored", "[host][display]") {
    TempDir xen, state;
    DisplayHost host(xen.path(), state.path());
    CHECK_FALSE(host.stored(kUuid).choice);

    StoredDisplay display;
    DisplayChoice choice;
    choice.mode = DisplayMode::VncDom0;
    choice.address = "127.0.0.1";
    choice.port = 5901;
    choice.keymap = "de";
    display.choice = choice;
    display.password = "s3cret";
    host.store(kUuid, display);

    const StoredDisplay back = host.stored(kUuid);
    REQUIRE(back.choice);
    CHECK(back.choice->mode == DisplayMode::VncDom0);
    CHECK(back.choice->address == std::optional<std::string>("127.0.0.1"));
    CHECK(back.choice->port == std::optional<std::int32_t>(5901));
    CHECK(back.choice->keymap == std::optional<std::string>("de"));
    CHECK(back.password == std::optional<std::string>("s3cret"));

    struct stat st {};
    REQUIRE(::stat((state.path() + "/display/" + kUuid + ".json").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat((state.path() + "/display").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("a display file stubdomd did not write is refused without quoting it",
          "[host][display]") {
    TempDir xen, state;
    DisplayHost host(xen.path(), state.path());
    StoredDisplay nothing;
    host.store(kUuid, nothing); // makes the directory
    state.write("display/" + kUuid + ".json", "{\"vncpasswd\": 42, \"secret\": \"hunter2\"}");
    try {
        host.stored(kUuid);
        FAIL("no error");
    } catch (const Error& e) {
        CHECK_THAT(e.what(), Catch::Contains(kUuid + ".json"));
        CHECK_THAT(e.what(), !Catch::Contains("hunter2"));
    }
}

TEST_CASE("a uuid that is not one never names a file", "[host][display]") {
    TempDir xen, state;
    DisplayHost host(xen.path(), state.path());
    CHECK_THROWS_AS(host.stored("../../etc/passwd"), Error);
    CHECK_THROWS_AS(host.store("", StoredDisplay{}), Error);
}

TEST_CASE("a guest without a config in the xen config dir has no display config",
          "[host][display]") {
    TempDir xen, state;
    DisplayHost host(xen.path(), state.path());
    CHECK_FALSE(host.guestConfig("no-such-guest"));
}
