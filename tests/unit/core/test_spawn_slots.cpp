// Spawn slots (max_parallel_spawns) are given back on every path an attempt can end
// by, so the queue never stalls behind attempts that are over.
#include "EngineHarness.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using namespace stubdomd::fakes;

TEST_CASE("a guest destroyed while its stub domain starts gives its spawn slot back") {
    Harness h;
    h.settings.maxParallelSpawns = 1;
    h.stubsReachRunning = false;
    h.withSpec("a");
    h.withSpec("b");
    h.startManager();
    DomId a = h.addGuest("a");
    h.step("create");
    h.step("domid");
    h.step("unpause"); // a's stub domain boots: nothing of xl is pending any more
    REQUIRE(h.view("a").state == GuestState::Starting);
    DomId sa = h.view("a").stubDomid;
    // xl destroy a: libxl takes the stub domain first, then the guest.
    h.hypervisor.domains.erase(sa);
    h.removeDomain(a);
    h.settle();
    h.runXl();
    CHECK_FALSE(h.manager->findGuest("a"));

    h.stubsReachRunning = true;
    h.addGuest("b");
    CHECK(h.toolstack.count("create") == 1); // b has the slot a gave back
    h.runXl();
    CHECK(h.view("b").state == GuestState::Running);
}
