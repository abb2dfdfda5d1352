// Pause and Resume of a guest with its stub domain (issue 21): the order of the
// hypercalls, both-or-neither, the paused state and what it refuses, and a stub domain
// that dies while its guest is paused.
#include "EngineHarness.hpp"

#include "core/PauseControl.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using namespace stubdomd::fakes;

namespace {

std::optional<Error> call(void (GuestService::*command)(const std::string&, Completion),
                          GuestService& service, const std::string& uuid) {
    std::optional<Error> result;
    bool called = false;
    try {
        (service.*command)(uuid, [&](const std::optional<Error>& e) {
            called = true;
            result = e;
        });
    } catch (const Error& e) {
        return e;
    }
    REQUIRE(called); // synchronous: done before the call returns
    return result;
}

} // namespace

TEST_CASE("PauseControl pauses the guest first and resumes it last") {
    FakeHypervisor hv;
    hv.domains[5] = DomainInfo{5, true};
    hv.domains[6] = DomainInfo{6, false};
    PauseControl pauses(hv);
    pauses.pause(5, 6);
    CHECK(hv.domains[5].paused);
    CHECK(hv.domains[6].paused);
    pauses.resume(5, 6);
    CHECK_FALSE(hv.domains[5].paused);
    CHECK_FALSE(hv.domains[6].paused);
    CHECK(hv.pauseCalls ==
          std::vector<std::string>{"pause 5", "pause 6", "unpause 6", "unpause 5"});
}

TEST_CASE("PauseControl pauses both or neither") {
    FakeHypervisor hv;
    hv.domains[5] = DomainInfo{5, true};
    hv.domains[6] = DomainInfo{6, false};
    PauseControl pauses(hv);
    SECTION("a stub that cannot be paused: the guest runs again, the error names the stub") {
        hv.refuse = {6};
        REQUIRE_THROWS_WITH(pauses.pause(5, 6), Catch::Contains("pausing the stub domain"));
        CHECK_FALSE(hv.domains[5].paused);
        CHECK(hv.pauseCalls == std::vector<std::string>{"pause 5", "pause 6", "unpause 5"});
    }
    SECTION("a stub that cannot be unpaused: the guest stays paused") {
        pauses.pause(5, 6);
        hv.refuse = {6};
        REQUIRE_THROWS_WITH(pauses.resume(5, 6), Catch::Contains("the guest stays paused"));
        CHECK(hv.domains[5].paused);
    }
    SECTION("a guest without a stub domain is paused alone") {
        pauses.pause(5, 0);
        pauses.resume(5, 0);
        CHECK(hv.pauseCalls == std::vector<std::string>{"pause 5", "unpause 5"});
    }
}

TEST_CASE("PauseControl keeps the set of guests paused for a sleep") {
    FakeHypervisor hv;
    PauseControl pauses(hv);
    pauses.pausedForSleep("a");
    pauses.pausedForSleep("b");
    pauses.forget("b");
    CHECK(pauses.isPausedForSleep("a"));
    CHECK_FALSE(pauses.isPausedForSleep("b"));
    CHECK(pauses.takeSleepSet() == std::set<std::string>{"a"});
    CHECK(pauses.takeSleepSet().empty());
}

TEST_CASE("Pause and Resume change the guest's state and refuse the wrong one") {
    Harness h;
    auto [g, s] = h.runningGuest("g");
    const std::string uuid = h.view("g").uuid;
    GuestManager& m = *h.manager;

    REQUIRE_FALSE(call(&GuestService::pause, m, uuid));
    CHECK(h.view("g").state == GuestState::Paused);
    CHECK(h.view("g").stateReason == "paused on request");
    CHECK(h.view("g").stubDomid == s);
    CHECK(h.hypervisor.domains[g].paused);
    CHECK(h.hypervisor.domains[s].paused);
    CHECK(h.hypervisor.pauseCalls ==
          std::vector<std::string>{"pause " + std::to_string(g), "pause " + std::to_string(s)});
    CHECK(h.manager->counts().paused == 1);
    CHECK(h.manager->counts().running == 0);

    auto again = call(&GuestService::pause, m, uuid);
    REQUIRE(again);
    CHECK(again->code() == ErrorCode::InvalidState);
    CHECK(std::string(again->what()) == "guest g is already paused");
    for (auto command : {&GuestService::stop, &GuestService::restart, &GuestService::start}) {
        auto refused = call(command, m, uuid);
        REQUIRE(refused);
        CHECK(refused->code() == ErrorCode::InvalidState);
        CHECK_THAT(refused->what(), Catch::Contains("paused"));
    }
    CHECK(h.toolstack.pending.empty());

    REQUIRE_FALSE(call(&GuestService::resume, m, uuid));
    CHECK(h.view("g").state == GuestState::Running);
    CHECK_FALSE(h.hypervisor.domains[g].paused);
    CHECK_FALSE(h.hypervisor.domains[s].paused);
    CHECK(h.hypervisor.pauseCalls.back() == "unpause " + std::to_string(g));

    auto notPaused = call(&GuestService::resume, m, uuid);
    REQUIRE(notPaused);
    CHECK(notPaused->code() == ErrorCode::InvalidState);
    CHECK(std::string(notPaused->what()) == "guest g is not paused (it is running)");
}

TEST_CASE("only a running guest is paused") {
    Harness h;
    h.startManager();
    h.addGuest("nospec");
    h.runXl();
    auto refused = call(&GuestService::pause, *h.manager, h.view("nospec").uuid);
    REQUIRE(refused);
    CHECK(refused->code() == ErrorCode::InvalidState);
    CHECK(std::string(refused->what()) ==
          "guest nospec is not running (it is unmanaged); only a running guest is paused with "
          "its stub domain");
    auto unknown = call(&GuestService::pause, *h.manager, "no-such-uuid");
    REQUIRE(unknown);
    CHECK(unknown->code() == ErrorCode::NoSuchGuest);
    CHECK(h.hypervisor.pauseCalls.empty());
}

TEST_CASE("a guest destroyed while paused takes its stub domain with it") {
    Harness h;
    auto [g, s] = h.runningGuest("g");
    REQUIRE_FALSE(call(&GuestService::pause, *h.manager, h.view("g").uuid));
    h.removeDomain(g);
    h.settle();
    h.runXl();
    CHECK_FALSE(h.manager->findGuest("g"));
    CHECK(h.hypervisor.domains.count(s) == 0);
}

TEST_CASE("a stub domain that dies while its guest is paused is judged after the resume") {
    Harness h;
    auto [g, s] = h.runningGuest("g");
    REQUIRE_FALSE(call(&GuestService::pause, *h.manager, h.view("g").uuid));
    h.crashDomain(s);
    h.settle();
    h.runXl();
    // Paused still, the stub gone, the guest untouched (crash-guest waits for the resume).
    CHECK(h.view("g").state == GuestState::Paused);
    CHECK(h.view("g").stubDomid == 0);
    CHECK_THAT(h.view("g").stateReason, Catch::Contains("on_stubdom_death applies when"));
    CHECK(h.hypervisor.crashed.empty());
    CHECK(h.hypervisor.domains.count(s) == 0);

    REQUIRE_FALSE(call(&GuestService::resume, *h.manager, h.view("g").uuid));
    h.settle();
    CHECK(h.hypervisor.crashed == std::vector<DomId>{g});
    CHECK(h.view("g").state == GuestState::Failed);
    CHECK_THAT(h.view("g").stateReason, Catch::Contains("on_stubdom_death = crash-guest"));
}

TEST_CASE("the host sleep pauses every running guest and resumes exactly those") {
    Harness h;
    h.withSpec("a");
    h.withSpec("b");
    h.withSpec("admin");
    h.startManager();
    DomId a = h.addGuest("a");
    h.addGuest("b");
    DomId admin = h.addGuest("admin");
    h.addGuest("nospec");
    h.runXl();
    REQUIRE_FALSE(call(&GuestService::pause, *h.manager, h.view("admin").uuid));
    h.hypervisor.pauseCalls.clear();

    CHECK(h.manager->pauseForSleep() == 2);
    for (const char* name : {"a", "b", "admin"}) {
        INFO(name);
        CHECK(h.view(name).state == GuestState::Paused);
        CHECK(h.hypervisor.domains[h.view(name).domid].paused);
        CHECK(h.hypervisor.domains[h.view(name).stubDomid].paused);
    }
    CHECK(h.view("a").stateReason == "paused while the host sleeps");
    CHECK(h.view("nospec").state == GuestState::Unmanaged);
    CHECK_FALSE(h.hypervisor.domains[h.view("nospec").domid].paused);

    const DomId aStub = h.view("a").stubDomid;
    h.hypervisor.pauseCalls.clear();
    CHECK(h.manager->resumeAfterSleep() == 2);
    CHECK(h.view("a").state == GuestState::Running);
    CHECK(h.view("b").state == GuestState::Running);
    CHECK(h.view("admin").state == GuestState::Paused);
    CHECK(h.view("admin").stateReason == "paused on request");
    CHECK(h.hypervisor.domains[admin].paused);
    // Each stub before its guest.
    const auto& calls = h.hypervisor.pauseCalls;
    auto at = [&](const std::string& c) {
        return std::find(calls.begin(), calls.end(), c);
    };
    REQUIRE(at("unpause " + std::to_string(aStub)) != calls.end());
    CHECK(at("unpause " + std::to_string(aStub)) < at("unpause " + std::to_string(a)));
    // A second wake finds nothing to resume.
    CHECK(h.manager->resumeAfterSleep() == 0);
}

TEST_CASE("a guest resumed by hand during the sleep is not resumed again") {
    Harness h;
    auto [g, s] = h.runningGuest("g");
    CHECK(h.manager->pauseForSleep() == 1);
    REQUIRE_FALSE(call(&GuestService::resume, *h.manager, h.view("g").uuid));
    REQUIRE_FALSE(call(&GuestService::pause, *h.manager, h.view("g").uuid));
    CHECK(h.manager->resumeAfterSleep() == 0);
    CHECK(h.view("g").state == GuestState::Paused);
    CHECK(h.hypervisor.domains[g].paused);
    CHECK(h.hypervisor.domains[s].paused);
}
