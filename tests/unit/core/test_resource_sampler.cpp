// StubMemoryUsedKiB and StubCpuTimeNs: read from the hypervisor only while someone listens,
// at most once a second per guest, and notified when they change.
#include "EngineHarness.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using namespace stubdomd::fakes;
using std::chrono::milliseconds;

namespace {
// Counts the notifications that carry the sampled fields.
struct ResourceCounter : GuestObserver {
    unsigned changes = 0;
    void guestAdded(const GuestView&) override {}
    void guestChanged(const GuestView&, std::uint32_t fields) override {
        if (fields & (FieldStubMemoryUsed | FieldStubCpuTime))
            ++changes;
    }
    void guestRemoved(const GuestView&) override {}
};

struct Sampling {
    Harness h;
    ResourceCounter counter;
    DomId stub = 0;
    std::string uuid;
    Sampling() {
        stub = h.runningGuest("g").stub;
        uuid = h.view("g").uuid;
        h.manager->addObserver(counter);
        h.hypervisor.domains[stub].memoryKiB = 40 * 1024;
    }
    // The stub's vCPUs ran `ms` more.
    void run(std::uint64_t ms) { h.hypervisor.domains[stub].cpuTimeNs += ms * 1000000; }
};
} // namespace

TEST_CASE("nothing is read or notified while nobody listens") {
    Sampling s;
    const unsigned lists = s.h.hypervisor.listCalls;
    for (int i = 0; i < 5; ++i) {
        s.run(1000);
        s.h.timers.advance(milliseconds(1000));
    }
    CHECK(s.h.hypervisor.listCalls == lists);
    CHECK(s.counter.changes == 0);
    CHECK(s.h.view("g").stubCpuTimeNs == 0);
}

TEST_CASE("a listener gets a reading at once, then at most one a second") {
    Sampling s;
    s.run(300);
    s.h.manager->watchResources(s.uuid);
    CHECK(s.h.view("g").stubMemoryUsedKiB == 40 * 1024);
    CHECK(s.h.view("g").stubCpuTimeNs == 300000000u);
    CHECK(s.counter.changes == 1);

    // Ten steps of 250 ms: the clock moves 2.5 s, readings at 1 s and 2 s only.
    for (int i = 0; i < 10; ++i) {
        s.run(250);
        s.h.timers.advance(milliseconds(250));
    }
    CHECK(s.counter.changes == 3);
    CHECK(s.h.view("g").stubCpuTimeNs == (300u + 2000u) * 1000000u);

    // A second listener, and one who comes and goes, half a second after the last
    // reading: no reading sooner than a second after it.
    s.h.manager->watchResources(s.uuid);
    s.h.manager->watchResources(s.uuid);
    s.h.manager->unwatchResources(s.uuid);
    CHECK(s.counter.changes == 3);
    s.h.timers.advance(milliseconds(500));
    CHECK(s.counter.changes == 4); // 3 s: the 500 ms run since 2 s
    CHECK(s.h.view("g").stubCpuTimeNs == (300u + 2500u) * 1000000u);

    // Unchanged values are not notified.
    s.h.timers.advance(milliseconds(1000));
    CHECK(s.counter.changes == 4);
    s.run(10);
    s.h.timers.advance(milliseconds(1000));
    CHECK(s.counter.changes == 5);
}

TEST_CASE("the last listener's leaving stops the readings") {
    Sampling s;
    s.h.manager->watchResources(s.uuid);
    s.h.manager->watchResources(s.uuid);
    s.h.manager->unwatchResources(s.uuid);
    s.run(1000);
    s.h.timers.advance(milliseconds(1000));
    const unsigned changes = s.counter.changes;
    const unsigned lists = s.h.hypervisor.listCalls;
    s.h.manager->unwatchResources(s.uuid);
    CHECK(s.h.timers.timers.empty());
    for (int i = 0; i < 3; ++i) {
        s.run(1000);
        s.h.timers.advance(milliseconds(1000));
    }
    CHECK(s.counter.changes == changes);
    CHECK(s.h.hypervisor.listCalls == lists);
}

TEST_CASE("a guest whose stub goes reads 0, and an unknown guest cannot be watched") {
    Sampling s;
    s.run(500);
    s.h.manager->watchResources(s.uuid);
    CHECK(s.h.view("g").stubCpuTimeNs != 0);
    std::optional<std::optional<Error>> stopped;
    s.h.manager->stop(s.uuid, [&](const std::optional<Error>& e) { stopped = e; });
    s.h.runXl();
    REQUIRE(stopped);
    CHECK(s.h.view("g").stubCpuTimeNs == 0);
    CHECK(s.h.view("g").stubMemoryUsedKiB == 0);
    CHECK_THROWS_AS(s.h.manager->watchResources("no-such-uuid"), Error);
}
