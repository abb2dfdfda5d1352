// The registry on its own: the state table applied by transition(), the observers told
// exactly what changed and only of announced guests, the counts, and the queries.
#include "core/Registry.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;

namespace {

struct Recorder : GuestObserver {
    std::vector<std::string> events;
    void guestAdded(const GuestView& g) override { events.push_back("added " + g.name); }
    void guestChanged(const GuestView& g, std::uint32_t fields) override {
        events.push_back("changed " + g.name + " " + std::to_string(fields));
    }
    void guestRemoved(const GuestView& g) override { events.push_back("removed " + g.name); }
};

Registry::Guest& addGuest(Registry& registry, DomId domid, const std::string& name) {
    auto guest = std::make_unique<Registry::Guest>();
    guest->view.domid = domid;
    guest->view.name = name;
    guest->view.uuid = name + "-uuid";
    return registry.add(domid, std::move(guest));
}

// A guest as discovery leaves it: its first state, then announced.
Registry::Guest& announced(Registry& registry, DomId domid, const std::string& name,
                           GuestState first = GuestState::Pending) {
    auto& guest = addGuest(registry, domid, name);
    registry.transition(guest, first, "");
    registry.announce(guest);
    return guest;
}

} // namespace

TEST_CASE("registry: a guest is told of only once announced, then each change once") {
    Registry registry;
    Recorder seen;
    registry.addObserver(seen);
    int countChanges = 0;
    registry.onCountsChanged([&] { ++countChanges; });
    auto& g = addGuest(registry, 5, "web");
    CHECK(registry.transition(g, GuestState::Pending, "waiting")); // a first state
    CHECK(seen.events.empty());
    CHECK_FALSE(registry.find("web")); // not announced: not visible
    registry.announce(g);
    CHECK(seen.events == std::vector<std::string>{"added web"});
    CHECK(countChanges == 1);
    CHECK(registry.find("web-uuid")->domid == 5);

    CHECK(registry.transition(g, GuestState::Spawning, ""));
    CHECK(seen.events.back() == "changed web " + std::to_string(FieldState | FieldStateReason));
    CHECK(countChanges == 2);
    registry.mutate(g, [](GuestView& v) { v.restarts = 1; });
    CHECK(seen.events.back() == "changed web " + std::to_string(FieldRestarts));
    CHECK(countChanges == 2); // the counts do not depend on restarts
    const auto before = seen.events.size();
    registry.mutate(g, [](GuestView&) {}); // nothing changed: nobody is told
    CHECK(seen.events.size() == before);
}

TEST_CASE("registry: the table refuses a step it does not have, and mutate never changes state") {
    Registry registry;
    auto& g = addGuest(registry, 5, "web");
    CHECK_FALSE(registry.transition(g, GuestState::Stopping, "")); // not a first state
    CHECK(registry.transition(g, GuestState::Pending, ""));
    registry.announce(g);
    CHECK_FALSE(registry.transition(g, GuestState::Running, "skipping the spawn"));
    CHECK(g.view.state == GuestState::Pending);
    registry.mutate(g, [](GuestView& v) {
        v.state = GuestState::Running;
        v.restarts = 2;
    });
    CHECK(g.view.state == GuestState::Pending); // the state change is not made...
    CHECK(g.view.restarts == 2);                // ...the rest is
}

TEST_CASE("registry: fail sets state, reason and last error in one notification") {
    Registry registry;
    Recorder seen;
    registry.addObserver(seen);
    auto& g = announced(registry, 5, "web");
    registry.transition(g, GuestState::Spawning, "");
    registry.fail(g, "xl create failed: boom", "boom", [](GuestView& v) { v.stubDomid = 0; });
    CHECK(g.view.state == GuestState::Failed);
    CHECK(g.view.stateReason == "xl create failed: boom");
    CHECK(g.view.lastError == "boom");
    CHECK(seen.events.back() ==
          "changed web " + std::to_string(FieldState | FieldStateReason | FieldLastError));
    registry.fail(g, "again"); // failed may follow itself: the reason changes
    CHECK(g.view.lastError == "again");
}

TEST_CASE("registry: counts, a stub's domid finds its guest, and removal is told") {
    Registry registry;
    Recorder seen;
    registry.addObserver(seen);
    announced(registry, 5, "web");
    announced(registry, 6, "db", GuestState::Unmanaged);
    auto& hidden = addGuest(registry, 7, "hidden"); // never announced
    registry.transition(hidden, GuestState::Failed, "bad config");

    const auto counts = registry.counts();
    CHECK(counts.guests == 3);
    CHECK(counts.managed == 2);
    CHECK(counts.inProgress == 1);
    CHECK(counts.failed == 1);
    CHECK(registry.views().size() == 2);

    registry.linkStub(9, 5);
    CHECK(registry.findByDomid(9)->name == "web");
    CHECK(registry.findByDomid(5)->name == "web");
    CHECK_FALSE(registry.findByDomid(7)); // not announced
    CHECK(registry.byDomid(7) == &hidden);

    registry.remove(5);
    registry.remove(7); // never announced: nobody is told
    registry.remove(8); // unknown: nothing happens
    CHECK(seen.events.back() == "removed web");
    CHECK(registry.byDomid(5) == nullptr);
    registry.removeObserver(seen);
    registry.remove(6);
    CHECK(seen.events.back() == "removed web");
}

TEST_CASE("registry: a guest by uuid or name, a stub linked to it, and its stubs") {
    Registry registry;
    addGuest(registry, 5, "web");
    addGuest(registry, 7, "db");
    REQUIRE(registry.byUuid("db-uuid"));
    CHECK(registry.byUuid("db-uuid")->view.domid == 7);
    CHECK(registry.byName("web")->view.domid == 5);
    CHECK_FALSE(registry.byUuid("nobody-uuid"));
    CHECK_FALSE(registry.byName("nobody"));

    CHECK(registry.stubsOf(5).empty());
    registry.linkStub(9, 5);
    registry.linkStub(12, 5);
    registry.linkStub(10, 7);
    CHECK(registry.stubsOf(5) == std::vector<DomId>{9, 12});
    CHECK(registry.guestOfStub(10) == std::optional<DomId>(7));
    REQUIRE(registry.seenOf(9));
    CHECK(registry.seenOf(9)->kind == Registry::Kind::Stub);
    CHECK_FALSE(registry.guestOfStub(5)); // a guest is no stub
    CHECK_FALSE(registry.seenOf(11));

    registry.forgetStub(12);
    CHECK_FALSE(registry.guestOfStub(12));
    CHECK(registry.stubsOf(5) == std::vector<DomId>{9});
    CHECK(registry.seenOf(12)); // still seen: only the link went
    registry.forgetSeen(12);
    CHECK_FALSE(registry.seenOf(12));
}

TEST_CASE("registry: a domain list against what was seen: new, known, PV retry and gone") {
    Registry registry;
    registry.see(0) = {Registry::Kind::Ignored, "domain 0 is dom0", false, false};
    registry.see(3) = {Registry::Kind::Guest, "", true, false};
    registry.see(4) = {Registry::Kind::Ignored, "not an HVM guest", false, true};
    registry.see(6) = {Registry::Kind::Stub, "", false, false};
    registry.see(8) = {Registry::Kind::Ignored, "not an HVM guest", false, true};

    auto domain = [](DomId domid, bool shutdown = false) {
        DomainInfo info;
        info.domid = domid;
        info.shutdown = shutdown;
        return info;
    };
    // 6 is gone; 8 is shutting down, so not worth a second look as a PV domain.
    const auto diff = registry.takeList(
        {domain(0), domain(3), domain(4), domain(5), domain(8, true), domain(11)});
    using L = Registry::Listing;
    std::vector<std::pair<DomId, L>> listed;
    for (const auto& [info, listing] : diff.listed)
        listed.emplace_back(info.domid, listing);
    CHECK(listed == std::vector<std::pair<DomId, L>>{{0, L::Known},
                                                     {3, L::Known},
                                                     {4, L::RetryPv},
                                                     {5, L::New},
                                                     {8, L::Known},
                                                     {11, L::New}});
    CHECK(diff.gone == std::vector<DomId>{6});
    for (DomId domid : {0, 3, 4, 5, 8, 11})
        CHECK(registry.isListed(domid));
    CHECK_FALSE(registry.isListed(6));

    // Seen after the last one listed: gone too.
    registry.see(20) = {};
    CHECK(registry.takeList({domain(0)}).gone == std::vector<DomId>{3, 4, 6, 8, 20});
}
