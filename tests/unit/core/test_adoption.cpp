// What a restarted stubdomd finds of a run that was killed (SIGKILL) in the middle of
// its work: it adopts what runs, never doubles a stub domain and leaves no orphan.
#include "EngineHarness.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using namespace stubdomd::fakes;

TEST_CASE("a stub domain left unlinked by a killed run is destroyed even if its guest is gone") {
    Harness h;
    h.withSpec("g");
    h.startManager();
    DomId g = h.addGuest("g");
    h.step("create"); // g-dm exists, not linked yet
    REQUIRE(h.domainsNamed("g-dm") == 1);
    h.manager.reset(); // killed: its pending xl commands die with it
    h.toolstack.pending.clear();
    h.removeDomain(g); // the guest goes while no stubdomd runs
    h.settle();

    h.startManager();
    h.runXl();
    CHECK(h.domainsNamed("g-dm") == 0);
}

TEST_CASE("a stub domain a killed run linked only halfway is replaced and not doubled") {
    Harness h;
    h.withSpec("g");
    h.startManager();
    DomId g = h.addGuest("g");
    h.step("create");
    h.step("domid"); // linked; the unpause is pending
    DomId s = h.view("g").stubDomid;
    // Killed between writing the stub's target and the guest's device-model-domid.
    h.store.remove(paths::deviceModelDomid(g));
    h.manager.reset();
    h.toolstack.pending.clear();

    h.startManager();
    h.runXl();
    CHECK(h.view("g").state == GuestState::Running);
    CHECK(h.domainsNamed("g-dm") == 1);
    CHECK(h.view("g").stubDomid != s);
    CHECK_FALSE(h.hypervisor.domains.count(s));
}

TEST_CASE("a PV guest named like a stub domain survives a restart, running or paused") {
    Harness h;
    h.withSpec("web");
    h.withSpec("db");
    h.startManager();
    // PV guests of their own, named as the stubs of `web` and `db` would be; those two
    // guests are not running (their configs stay).
    DomId running = h.addGuest("web-dm", false);
    DomId paused = h.addGuest("db-dm", false);
    for (DomId d : {running, paused})
        h.store.put("/vm/" + Harness::uuidFor(d) + "/image/kernel", "/boot/vmlinuz-6.1");
    h.hypervisor.domains[paused].paused = true; // the administrator paused it
    h.settle();

    h.manager.reset();
    h.startManager();
    h.runXl();
    CHECK(h.toolstack.historyCount("destroy") == 0);
    CHECK(h.domainsNamed("web-dm") == 1);
    CHECK(h.domainsNamed("db-dm") == 1);
}
