// Discovery on its own, over the real registry, spawn pipeline and teardown: what a
// domain is comes from the hypervisor and dom0's nodes, never from its name; a stub
// domain a previous run linked is adopted; a PV guest booted through PV-GRUB is listed.
#include "ComponentHarness.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using namespace stubdomd::fakes;

TEST_CASE("discovery: an HVM guest with any name is a guest, from the facts") {
    Components c;
    c.withSpec("web-dm"); // a name like a stub domain's: only the facts count
    c.domain(5, "web-dm", true);
    c.domain(7, "plain", true); // no stub config
    c.discovery->start();
    CHECK(c.store.watching(paths::kIntroduceDomain) == 1);
    CHECK(c.store.watching(paths::kReleaseDomain) == 1);

    Registry::Guest* web = c.registry.byDomid(5);
    REQUIRE(web);
    CHECK(web->announced);
    CHECK(web->view.uuid == Components::uuidFor(5));
    CHECK(web->view.state == GuestState::Spawning); // announced, queued, given the free slot
    CHECK(c.toolstack.count("create") == 1);
    REQUIRE(c.registry.seenOf(5));
    CHECK(c.registry.seenOf(5)->kind == Registry::Kind::Guest);

    Registry::Guest* plain = c.registry.byDomid(7);
    REQUIRE(plain);
    CHECK(plain->view.state == GuestState::Unmanaged);
    CHECK(plain->view.stateReason == "no stub-domain configuration /etc/xen/stubdom-plain");

    // A guest introduced later is found on the rescan its event schedules, once.
    c.withSpec("db");
    c.domain(8, "db", true);
    c.store.fireSpecial(paths::kIntroduceDomain);
    c.store.fireSpecial(paths::kIntroduceDomain);
    c.settle();
    REQUIRE(c.registry.byDomid(8));
    CHECK(c.registry.byDomid(8)->view.state == GuestState::Spawning);
    CHECK(c.toolstack.count("create") == 2);

    // It goes: the teardown is told, the registry forgets it.
    c.hypervisor.domains.erase(8);
    c.store.fireSpecial(paths::kReleaseDomain);
    c.settle();
    CHECK_FALSE(c.registry.byDomid(8));
    CHECK_FALSE(c.registry.seenOf(8));
}

TEST_CASE("discovery: a domain with a target is a stub domain, not a guest") {
    Components c;
    c.withSpec("web");
    c.domain(5, "web", true);
    c.discovery->start();
    // An HVM domain whose dom0-owned `target` names another: a stub domain, whatever its
    // name says (here a guest's name, with a stub config of that name too).
    c.withSpec("looks-like-a-guest");
    c.domain(9, "looks-like-a-guest", true);
    c.store.put(paths::target(9), "5");
    c.store.fireSpecial(paths::kIntroduceDomain);
    c.settle();
    CHECK_FALSE(c.registry.byDomid(9));
    REQUIRE(c.registry.seenOf(9));
    CHECK(c.registry.seenOf(9)->kind == Registry::Kind::Ignored);
    CHECK(c.registry.seenOf(9)->why == "domain 9 is a stub domain");
    CHECK(c.registry.counts().guests == 1);
}

TEST_CASE("discovery: a running stub domain linked by a previous run is adopted") {
    Components c;
    c.withSpec("web");
    c.domain(5, "web", true);
    c.domain(9, "web-dm", false);
    c.store.put(paths::target(9), "5");
    c.store.put(paths::deviceModelDomid(5), "9");
    c.store.put(paths::stubDeviceModel(9, 5) + "/state", "running", 9);
    // A second stub linked to the same guest (a killed run's leftover) is destroyed.
    c.domain(10, "web-dm", false);
    c.store.put(paths::target(10), "5");
    c.discovery->start();

    Registry::Guest* web = c.registry.byDomid(5);
    REQUIRE(web);
    CHECK(web->announced);
    CHECK(web->view.state == GuestState::Running);
    CHECK(web->view.stateReason == "adopted from a previous run");
    CHECK(web->view.stubDomid == 9);
    CHECK(c.registry.guestOfStub(9) == std::optional<DomId>(5));
    CHECK_FALSE(c.registry.guestOfStub(10));
    CHECK(c.toolstack.count("create") == 0); // never doubled
    CHECK(c.toolstack.count("destroy") == 1);
}

TEST_CASE("discovery: a stub a previous run linked that never ran is replaced") {
    Components c;
    c.withSpec("web");
    c.domain(5, "web", true);
    c.domain(9, "web-dm", false);
    c.store.put(paths::target(9), "5");
    c.store.put(paths::deviceModelDomid(5), "9"); // linked, but its device model never ran
    c.discovery->start();

    CHECK(c.state(5) == GuestState::Pending); // spawned again once the leftover is gone
    CHECK(c.toolstack.count("create") == 0);
    REQUIRE(c.toolstack.complete("destroy"));
    CHECK(c.state(5) == GuestState::Spawning);
    CHECK(c.toolstack.count("create") == 1);
}

TEST_CASE("discovery: a PV guest booted through PV-GRUB is listed, never touched") {
    Components c;
    c.domain(6, "mail", false);
    c.store.put("/vm/" + Components::uuidFor(6) + "/image/kernel",
                "/usr/lib/xen/boot/pv-grub-x86_64.gz");
    c.domain(7, "other-pv", false); // a PV domain booting its own kernel: only seen
    c.store.put("/vm/" + Components::uuidFor(7) + "/image/kernel", "/boot/vmlinuz-6.1");
    c.discovery->start();

    Registry::Guest* mail = c.registry.byDomid(6);
    REQUIRE(mail);
    CHECK(mail->announced);
    CHECK(mail->view.flavour == Flavour::PvGrub);
    CHECK(mail->view.state == GuestState::Unmanaged);
    CHECK_FALSE(c.registry.byDomid(7));
    REQUIRE(c.registry.seenOf(7));
    CHECK(c.registry.seenOf(7)->why == "not an HVM guest");
    CHECK(c.toolstack.count("create") == 0);
}
