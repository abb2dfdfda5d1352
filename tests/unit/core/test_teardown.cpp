// The teardown on its own, over the spawn pipeline and the real registry: a stub that dies
// under a running guest (judged after the grace on a fresh list, on_stubdom_death =
// restart), a stub that goes with its guest (no death), and a guest gone mid-spawn.
#include "ComponentHarness.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using namespace stubdomd::fakes;

namespace {

// web (domid 5) running on its stub 9.
Registry::Guest& runningWeb(Components& c) {
    auto& web = c.guest(5, "web");
    c.pipeline->enqueue(web);
    c.created(9);
    c.running(5, 9);
    REQUIRE(c.state(5) == GuestState::Running);
    return web;
}

} // namespace

TEST_CASE("teardown: a stub that dies under its running guest is judged, then restarted") {
    Components c;
    c.settings.onStubdomDeath = StubDeathPolicy::Restart;
    auto& web = runningWeb(c);
    c.teardown->stubGone(9, false);
    CHECK_FALSE(c.registry.guestOfStub(9));
    CHECK(c.state(5) == GuestState::Running); // within the grace: perhaps the guest goes too
    c.timers.advance(std::chrono::milliseconds(1000));
    CHECK(c.rescansNow == 1); // judged on a fresh domain list
    CHECK(c.state(5) == GuestState::Pending);
    CHECK(web.view.restarts == 1);
    CHECK(web.view.stubDomid == 0);
    CHECK(web.view.lastError ==
          "web-dm (domid 9) died: was destroyed (no shutdown reason: it was gone at once)");
    CHECK(c.released.empty()); // no failed spawn: the teardown released the stub itself
    // The respawn waits until the old stub (same name) is destroyed.
    CHECK(c.toolstack.count("create") == 0);
    while (c.toolstack.complete("destroy")) {
    }
    CHECK(c.state(5) == GuestState::Spawning);
    CHECK(c.toolstack.count("create") == 1);
}

TEST_CASE("teardown: a stub whose guest goes within the grace did not die on its own") {
    Components c;
    runningWeb(c);
    c.teardown->stubGone(9, false);
    c.teardown->guestGone(5);
    CHECK_FALSE(c.registry.byDomid(5));
    c.timers.advance(std::chrono::milliseconds(1000));
    CHECK(c.toolstack.count("destroy") == 0); // the toolstack destroyed both itself
    CHECK(c.toolstack.count("create") == 0);
}

TEST_CASE("teardown: a guest gone while xl creates its stub; xl's answer cleans up") {
    Components c(1);
    auto& web = c.guest(5, "web");
    auto& db = c.guest(6, "db");
    std::optional<Error> answer;
    c.waiters.waitForStart(5, [&](const std::optional<Error>& e) { answer = e; });
    c.pipeline->enqueue(web);
    c.pipeline->enqueue(db);
    c.teardown->guestGone(5);
    REQUIRE(answer);
    CHECK(answer->code() == ErrorCode::NoSuchGuest);
    CHECK_FALSE(c.registry.byDomid(5));
    CHECK(c.state(6) == GuestState::Pending); // web's slot is xl's until it answers
    REQUIRE(c.toolstack.complete("create"));
    CHECK(c.state(6) == GuestState::Spawning);
    REQUIRE(c.toolstack.complete("domid", ToolResult{0, "9\n", ""})); // web-dm, orphaned
    CHECK(c.toolstack.count("destroy") == 1);
}

TEST_CASE("teardown: a stub that dies under a paused guest is judged once it is resumed") {
    Components c;
    c.settings.onStubdomDeath = StubDeathPolicy::Restart;
    auto& web = runningWeb(c);
    REQUIRE(c.registry.transition(web, GuestState::Paused, "paused on request"));
    c.teardown->stubGone(9, false);
    c.timers.advance(std::chrono::milliseconds(1000)); // the grace
    CHECK(c.state(5) == GuestState::Paused);           // nothing restarted under a paused guest
    CHECK(web.view.stubDomid == 0);
    CHECK(web.view.stateReason == "web-dm (domid 9) died: was destroyed (no shutdown reason: it "
                                  "was gone at once) while the guest was paused; "
                                  "on_stubdom_death applies when it is resumed");
    CHECK(web.view.restarts == 0);
    while (c.toolstack.complete("destroy")) {
    }
    CHECK(c.toolstack.count("create") == 0);

    REQUIRE(c.registry.transition(web, GuestState::Running, "resumed on request"));
    c.teardown->resumed(web);
    CHECK(c.state(5) == GuestState::Pending); // restarted, once the old stub's name is free
    CHECK(web.view.restarts == 1);
    REQUIRE(c.toolstack.complete("destroy"));
    CHECK(c.state(5) == GuestState::Spawning);
    c.teardown->resumed(web); // judged once
    CHECK(web.view.restarts == 1);
}
