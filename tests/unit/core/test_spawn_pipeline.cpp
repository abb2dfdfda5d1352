// The spawn pipeline on its own, over the fakes and the real registry: a guest from its
// spawn slot to running (the slot held until then), a Stop while xl creates (the attempt
// overtaken, its slot held until xl answers), the start timer, and the PV probe discovery
// holds back while a stub is being created.
#include "ComponentHarness.hpp"

#include "core/XenPaths.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using namespace stubdomd::fakes;

TEST_CASE("spawn pipeline: a guest from its slot to running, the slot held until then") {
    Components p(1);
    auto& web = p.guest(5, "web");
    auto& db = p.guest(6, "db");
    std::vector<std::string> answers;
    p.waiters.waitForStart(
        5, [&](const std::optional<Error>& e) { answers.push_back(e ? e->what() : "ok"); });
    p.pipeline->enqueue(web);
    p.pipeline->enqueue(db);
    CHECK(p.state(5) == GuestState::Spawning);
    CHECK(p.state(6) == GuestState::Pending); // one slot: db waits
    REQUIRE(p.toolstack.count("create") == 1);
    CHECK(p.files.count("/run/stubdomd/web-dm.cfg") == 1);
    CHECK(p.pipeline->deferPvProbe()); // web-dm is being created

    p.created(9);
    CHECK(p.state(5) == GuestState::Starting);
    CHECK(p.registry.byDomid(5)->view.stubDomid == 9);
    CHECK(p.hypervisor.targets[9] == 5); // linked
    CHECK(p.store.watches.size() == 2);  // its device-model state, both paths
    CHECK(p.toolstack.count("unpause") == 1);
    CHECK(p.rescans == 1); // the PV probe held back is due now
    CHECK_FALSE(p.pipeline->deferPvProbe());
    CHECK(p.state(6) == GuestState::Pending); // web still holds the slot

    p.deliver(); // the registration events: nothing runs yet
    CHECK(p.state(5) == GuestState::Starting);
    p.store.write(paths::stubDeviceModel(9, 5) + "/state", "running");
    p.deliver();
    CHECK(p.state(5) == GuestState::Running);
    CHECK(p.store.watches.empty());
    CHECK(p.store.read(paths::legacyDeviceModel(5) + "/state") == "running");
    CHECK(answers == std::vector<std::string>{"ok"});
    CHECK(p.state(6) == GuestState::Spawning); // the slot went to db
    CHECK(p.timers.timers.empty());            // web's start timer went with its watches
}

TEST_CASE("spawn pipeline: Stop while xl creates; the attempt only cleans up when xl answers") {
    Components p(1);
    auto& web = p.guest(5, "web");
    p.guest(6, "db");
    p.pipeline->enqueue(web);
    p.pipeline->enqueue(*p.registry.byDomid(6));
    p.registry.transition(web, GuestState::Stopping, "stopping on request");
    CHECK(p.pipeline->cancel(web));           // xl still to answer
    CHECK(p.state(6) == GuestState::Pending); // the slot is still xl's

    // xl made it all the same: the pipeline finds it by name and destroys it.
    REQUIRE(p.toolstack.complete("create"));
    CHECK(p.state(5) == GuestState::Stopped);
    CHECK(p.state(6) == GuestState::Spawning);
    REQUIRE(p.toolstack.complete("domid", ToolResult{0, "9\n", ""}));
    CHECK(p.toolstack.count("destroy") == 1);
    CHECK(p.released == std::vector<DomId>{5});
}

TEST_CASE("spawn pipeline: a cancelled guest leaves the queue; no attempt, nothing to wait for") {
    Components p(1);
    auto& web = p.guest(5, "web");
    auto& db = p.guest(6, "db");
    p.pipeline->enqueue(web);
    p.pipeline->enqueue(db);
    p.registry.transition(db, GuestState::Stopping, "stopping on request");
    CHECK_FALSE(p.pipeline->cancel(db));
    p.pipeline->abortAttempt(db);
    CHECK(p.state(6) == GuestState::Stopped);
    p.created(9);
    p.store.write(paths::stubDeviceModel(9, 5) + "/state", "running");
    p.deliver();
    CHECK(p.state(5) == GuestState::Running);
    CHECK(p.toolstack.count("create") == 0); // db never got the slot
    CHECK(p.state(6) == GuestState::Stopped);
}

TEST_CASE("spawn pipeline: a stub that never says running fails its guest on the start timer") {
    Components p;
    auto& web = p.guest(5, "web");
    std::optional<Error> answer;
    p.waiters.waitForStart(5, [&](const std::optional<Error>& e) { answer = e; });
    p.pipeline->enqueue(web);
    p.created(9);
    REQUIRE(p.state(5) == GuestState::Starting);
    p.timers.advance(p.settings.startTimeout);
    CHECK(p.state(5) == GuestState::Failed);
    CHECK(p.registry.byDomid(5)->view.stateReason == "web-dm did not reach running within 30 s");
    REQUIRE(answer);
    CHECK(answer->code() == ErrorCode::TimedOut);
    CHECK(p.store.watches.empty());
    CHECK(p.toolstack.count("destroy") == 1);
    CHECK(p.released == std::vector<DomId>{5});
    // A late `running` of the failed attempt changes nothing.
    p.store.write(paths::stubDeviceModel(9, 5) + "/state", "running");
    p.deliver();
    CHECK(p.state(5) == GuestState::Failed);
}

TEST_CASE("spawn pipeline: a leftover of the stub's name is destroyed once, then xl retried") {
    Components p;
    auto& web = p.guest(5, "web");
    std::optional<Error> answer;
    bool answered = false;
    p.waiters.waitForStart(5, [&](const std::optional<Error>& e) {
        answer = e;
        answered = true;
    });
    p.pipeline->enqueue(web);
    const ToolResult clash{1, "", "libxl: error: domain with name web-dm already exists\n"};
    REQUIRE(p.toolstack.complete("create", clash));
    // The leftover (domid 12, linked to no guest) is found by name and destroyed first.
    REQUIRE(p.toolstack.complete("domid", ToolResult{0, "12\n", ""}));
    CHECK(p.toolstack.count("create") == 0);
    REQUIRE(p.toolstack.count("destroy") == 1);
    CHECK(p.toolstack.pending.front().args == std::vector<std::string>{"destroy", "12"});
    REQUIRE(p.toolstack.complete("destroy"));
    CHECK(p.toolstack.count("create") == 1);
    CHECK(p.state(5) == GuestState::Spawning);
    CHECK_FALSE(answered);
    // Only once: a second clash fails the guest, with xl's words.
    REQUIRE(p.toolstack.complete("create", clash));
    CHECK(p.state(5) == GuestState::Failed);
    CHECK(p.registry.byDomid(5)->view.stateReason ==
          "xl create failed: libxl: error: domain with name web-dm already exists");
    REQUIRE(answer);
    CHECK(answer->code() == ErrorCode::SpawnFailed);
    CHECK(p.toolstack.count("domid") == 0);
}

TEST_CASE("spawn pipeline: a stub that does not fit in free memory fails at once, no slot held") {
    Components p(2);
    p.hypervisor.freeKiB = 48 * 1024; // one 32 MiB stub fits, a second one not beside it
    auto& web = p.guest(5, "web");
    auto& db = p.guest(6, "db");
    auto& mail = p.guest(7, "mail");
    std::optional<Error> answer;
    p.waiters.waitForStart(6, [&](const std::optional<Error>& e) { answer = e; });
    p.pipeline->enqueue(web);
    p.pipeline->enqueue(db);
    CHECK(p.state(5) == GuestState::Spawning);
    CHECK(p.state(6) == GuestState::Failed);
    CHECK(p.registry.byDomid(6)->view.stateReason ==
          "not enough free memory for db-dm: it needs 32 MiB, 48 MiB are free and 32 MiB are "
          "reserved for stub domains being created; if dom0 balloons, give it a fixed dom0_mem=");
    REQUIRE(answer);
    CHECK(answer->code() == ErrorCode::SpawnFailed);
    CHECK(p.toolstack.count("create") == 1); // web's only
    // Once web's stub runs, its reservation is given back (the hypervisor's free figure
    // counts it from then on): the next guest fits in the same 48 MiB.
    p.created(9);
    p.running(5, 9);
    CHECK(p.state(5) == GuestState::Running);
    p.pipeline->enqueue(mail);
    CHECK(p.state(7) == GuestState::Spawning);
}
