// Display control in the engine, on the fakes: a broken set-up fails the guest, the
// password goes where the stub's ioemu or the dom0 vfb backend reads it, the dom0 VNC
// port is followed, and SetDisplay applies at the next start.
#include "DisplayHarness.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using namespace stubdomd::fakes;
using Catch::Matchers::Contains;

TEST_CASE("a guest whose display set-up breaks a rule fails with the reason, unspawned") {
    DisplayHarness h;
    h.withSpec("hvmconfig");
    GuestDisplayConfig guest;
    guest.source = "/etc/xen/hvmconfig";
    guest.vnc = true;
    guest.vnclisten = "127.0.0.1";
    h.sources.configs["hvmconfig"] = guest;
    h.start();
    h.addGuest("hvmconfig");
    auto v = h.view("hvmconfig");
    CHECK(v.state == GuestState::Failed);
    CHECK_THAT(v.stateReason, Contains("/etc/xen/hvmconfig") && Contains("loopback"));
    CHECK(h.toolstack.historyCount("create") == 0);
    std::optional<Error> error;
    CHECK_THROWS_AS(h.manager->start(v.uuid, [&](const std::optional<Error>& e) { error = e; }),
                    Error);
    try {
        h.manager->start(v.uuid, [](const std::optional<Error>&) {});
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::InvalidDisplay);
    }
}

TEST_CASE("vnc-stubdom: the README's values, dmargs, the password for the stub only") {
    DisplayHarness h;
    h.withSpec("hvmconfig");
    h.specs.specs["hvmconfig"].vifs = {"ip=172.30.206.1", "ip=10.0.1.1,mac=aa:00:00:12:23:34"};
    GuestDisplayConfig guest;
    guest.source = "/etc/xen/hvmconfig";
    guest.vnc = true;
    guest.vnclisten = "172.30.206.1";
    h.sources.configs["hvmconfig"] = guest;
    h.start();
    DomId g = h.addGuest("hvmconfig");
    std::string uuid = h.view("hvmconfig").uuid;
    h.sources.saved[uuid].password = "s3cret";
    h.runXl();
    auto v = h.view("hvmconfig");
    REQUIRE(v.state == GuestState::Running);
    CHECK(v.displayMode == DisplayMode::VncStubdom);
    CHECK(v.displayAddress == "172.30.206.1");
    CHECK(v.displayPort == 5900);
    CHECK(h.config("hvmconfig").find("vif = [ \"ip=172.30.206.1\"") != std::string::npos);
    CHECK(h.store.get(paths::dmargs(uuid)) ==
          " -d " + std::to_string(g) + " -domain-name hvmconfig -vnc 172.30.206.1:0");
    CHECK(h.store.get("/vm/" + uuid + "/vncpasswd") == "s3cret");
    CHECK(h.store.permsOf("/vm/" + uuid + "/vncpasswd") ==
          std::vector<Permission>{{0, Access::None}, {v.stubDomid, Access::Read}});

    SECTION("stopping forgets where to connect") {
        h.manager->stop(uuid, [](const std::optional<Error>&) {});
        h.runXl();
        CHECK(h.view("hvmconfig").displayAddress.empty());
        CHECK(h.view("hvmconfig").displayPort == -1);
    }
}

TEST_CASE("vnc-dom0: the port appears when the vfb backend writes it") {
    DisplayHarness h;
    h.withSpec("hvmconfig");
    h.specs.specs["hvmconfig"].vfbs = {"type=vnc,vncunused=1"};
    h.start();
    h.addGuest("hvmconfig");
    h.runXl();
    auto v = h.view("hvmconfig");
    REQUIRE(v.state == GuestState::Running);
    CHECK(v.displayMode == DisplayMode::VncDom0);
    CHECK(v.displayAddress == "127.0.0.1");
    CHECK(v.displayPort == -1);
    h.store.put(paths::vncPort(v.stubDomid), "5907", v.stubDomid);
    h.settle();
    CHECK(h.view("hvmconfig").displayPort == 5907);
    h.store.put(paths::vncPort(v.stubDomid), "lots", v.stubDomid);
    h.settle();
    CHECK(h.view("hvmconfig").displayPort == -1);
}

TEST_CASE("SetDisplay is checked, stored, and applied by Restart") {
    DisplayHarness h;
    h.withSpec("hvmconfig");
    h.start();
    h.addGuest("hvmconfig");
    h.runXl();
    std::string uuid = h.view("hvmconfig").uuid;
    REQUIRE(h.view("hvmconfig").displayMode == DisplayMode::None);

    DisplayChoice bad;
    bad.mode = DisplayMode::VncStubdom;
    bad.address = "localhost";
    CHECK_THROWS_AS(h.manager->setDisplay(uuid, bad), Error);
    CHECK(h.sources.saved.empty());
    CHECK_THROWS_AS(h.manager->setDisplayPassword(uuid, "x"), Error); // none has no password

    DisplayChoice choice;
    choice.mode = DisplayMode::VncStubdom;
    choice.address = "172.30.206.1";
    h.manager->setDisplay(uuid, choice);
    CHECK(h.sources.saved.at(uuid).choice->mode == DisplayMode::VncStubdom);
    CHECK(h.view("hvmconfig").displayMode == DisplayMode::None); // until the next start
    h.manager->setDisplayPassword(uuid, "pw");
    CHECK(h.view("hvmconfig").displayPasswordSet);

    h.manager->restart(uuid, [](const std::optional<Error>&) {});
    h.runXl();
    auto v = h.view("hvmconfig");
    REQUIRE(v.state == GuestState::Running);
    CHECK(v.displayMode == DisplayMode::VncStubdom);
    CHECK(v.displayAddress == "172.30.206.1");
    CHECK(h.config("hvmconfig").find("vif = [ \"ip=172.30.206.1\", ") != std::string::npos);
    CHECK(h.store.get("/vm/" + uuid + "/vncpasswd") == "pw");
}
