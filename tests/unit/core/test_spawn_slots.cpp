// Spawn slots (max_parallel_spawns) are given back on every path an attempt can end
// by, so the queue never stalls behind attempts that are over.
#include "EngineHarness.hpp"

#include "core/SpawnSlots.hpp"

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

// The SpawnSlots component on its own: the queue, the slots, the ledger and the gate.

TEST_CASE("spawn slots hand out waiting guests in their order while a slot is free") {
    SpawnSlots slots(2);
    CHECK(slots.next() == std::nullopt); // nobody waits
    slots.enqueue(5);
    slots.enqueue(7);
    slots.enqueue(9);
    CHECK(slots.waiting() == std::deque<DomId>{5, 7, 9});
    CHECK(slots.next() == std::optional<DomId>(5));
    slots.take();
    CHECK(slots.next() == std::optional<DomId>(7));
    slots.take();
    CHECK(slots.active() == 2);
    CHECK(slots.next() == std::nullopt); // both slots in use: 9 keeps waiting
    CHECK(slots.waiting() == std::deque<DomId>{9});
    slots.release();
    CHECK(slots.next() == std::optional<DomId>(9));
    CHECK(slots.waiting().empty());
}

TEST_CASE("a guest that leaves the queue is never handed out, and the others keep order") {
    SpawnSlots slots(1);
    slots.enqueue(5);
    slots.enqueue(7);
    slots.enqueue(5); // queued twice (a restart): both go
    slots.enqueue(9);
    slots.remove(5);
    slots.remove(11); // not waiting: nothing happens
    CHECK(slots.waiting() == std::deque<DomId>{7, 9});
    CHECK(slots.next() == std::optional<DomId>(7));
}

TEST_CASE("a slot held without a guest (a destroy the next spawn waits for) holds the queue") {
    SpawnSlots slots(1);
    slots.take();
    slots.enqueue(5);
    CHECK(slots.next() == std::nullopt);
    slots.release();
    CHECK(slots.active() == 0);
    slots.release(); // one release too many never wraps round to "all slots in use"
    CHECK(slots.active() == 0);
    CHECK(slots.next() == std::optional<DomId>(5));
}

TEST_CASE("the memory ledger promises only what is free beside earlier promises") {
    SpawnSlots slots(4);
    CHECK(slots.reserve(100, 250));
    std::uint64_t first = 100;
    CHECK(slots.reservedKiB() == 100);
    CHECK(slots.reserve(150, 250)); // exactly fits: 100 + 150 <= 250
    std::uint64_t second = 150;
    CHECK_FALSE(slots.reserve(1, 250)); // 250 are promised: a third create would overcommit
    CHECK(slots.reservedKiB() == 250);  // a refused promise takes nothing
    slots.giveBack(first);
    CHECK(first == 0);
    CHECK(slots.reservedKiB() == 150);
    slots.giveBack(first); // given back already: nothing more
    CHECK(slots.reservedKiB() == 150);
    slots.giveBack(second);
    CHECK(slots.reservedKiB() == 0);
}

TEST_CASE("spawn slots ask the gate, and its changes reach the listener") {
    SpawnSlots slots(1);
    CHECK(slots.closedBecause().empty()); // no gate: nothing waits
    CHECK(slots.caveat().empty());
    FakeGate gate;
    int changes = 0;
    slots.setGate(gate, [&] { ++changes; });
    gate.why = "waiting for helper fs-backend, which is restarting";
    CHECK(slots.closedBecause() == gate.why);
    gate.why.clear();
    gate.warning = "helper fs-backend is not running (disabled)";
    CHECK(slots.closedBecause().empty());
    CHECK(slots.caveat() == gate.warning);
    REQUIRE(gate.listener);
    gate.listener();
    CHECK(changes == 1);
}
