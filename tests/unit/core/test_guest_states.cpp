// The guest state machine (DESIGN.md section 3): every one of the 100 pairs of states is
// either allowed or refused by the table, as listed here; and what the engine does to
// real guests only ever takes allowed steps.
#include "EngineHarness.hpp"

#include "core/GuestStates.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>

using namespace stubdomd;
using namespace stubdomd::fakes;

namespace {

using S = GuestState;
const std::vector<S> kAll{S::Unmanaged, S::Pending,  S::Running,  S::Paused,  S::Spawning,
                          S::Linking,   S::Starting, S::Stopping, S::Stopped, S::Failed};

// The allowed steps, written out from DESIGN.md section 3 and the commands' rules.
const std::set<std::pair<S, S>> kAllowed{
    // The configuration read again: none, a good one, a bad one.
    {S::Unmanaged, S::Unmanaged},
    {S::Unmanaged, S::Pending},
    {S::Unmanaged, S::Failed},
    // Queued: spawned, stopped, queued again, refused.
    {S::Pending, S::Pending},
    {S::Pending, S::Spawning},
    {S::Pending, S::Stopping},
    {S::Pending, S::Failed},
    // The pipeline.
    {S::Spawning, S::Linking},
    {S::Spawning, S::Stopping},
    {S::Spawning, S::Failed},
    {S::Linking, S::Starting},
    {S::Linking, S::Stopping},
    {S::Linking, S::Failed},
    {S::Starting, S::Running},
    {S::Starting, S::Stopping},
    {S::Starting, S::Failed},
    // Pause or host sleep, and back; a stub death while paused only changes the reason.
    {S::Running, S::Paused},
    {S::Paused, S::Running},
    {S::Paused, S::Paused},
    // Stop; the stub died: restarted or failed.
    {S::Running, S::Stopping},
    {S::Running, S::Pending},
    {S::Running, S::Failed},
    {S::Stopping, S::Stopped},
    {S::Stopping, S::Failed},
    // Start again, or the configuration is gone or bad.
    {S::Stopped, S::Pending},
    {S::Stopped, S::Unmanaged},
    {S::Stopped, S::Failed},
    {S::Failed, S::Pending},
    {S::Failed, S::Unmanaged},
    {S::Failed, S::Failed},
    {S::Failed, S::Stopping},
};

std::string pairName(S from, S to) {
    return std::string(toString(from)) + " -> " + std::string(toString(to));
}

} // namespace

TEST_CASE("the state table allows exactly the listed steps and refuses every other") {
    unsigned allowed = 0, refused = 0;
    for (S from : kAll)
        for (S to : kAll) {
            INFO(pairName(from, to));
            const bool expected = kAllowed.count({from, to}) != 0;
            CHECK(isAllowedTransition(from, to) == expected);
            ++(expected ? allowed : refused);
        }
    CHECK(allowed == kAllowed.size());
    CHECK(allowed + refused == 100);
}

TEST_CASE("a guest's first state is what discovery or adoption found") {
    for (S state : kAll) {
        INFO(toString(state));
        const bool first = state == S::Unmanaged || state == S::Pending || state == S::Running ||
                           state == S::Paused || state == S::Failed;
        CHECK(isInitialState(state) == first);
    }
}

TEST_CASE("the engine only takes allowed steps, whatever happens to a guest") {
    Harness h;
    h.settings.onStubdomDeath = StubDeathPolicy::Restart;
    h.settings.maxRestarts = 1;
    h.withSpec("a");
    h.withSpec("b");
    std::vector<std::string> refusals;
    setLogSink([&](LogLevel level, const LogFields&, const std::string& m) {
        if (level == LogLevel::Error && m.find("state change") != std::string::npos)
            refusals.push_back(m);
    });
    h.startManager();
    h.addGuest("a");
    h.addGuest("b");
    h.addGuest("nospec");
    h.runXl();
    REQUIRE(h.view("a").state == S::Running);
    // a: its stub dies twice: restarted once, then failed (max_restarts).
    h.crashDomain(h.view("a").stubDomid);
    h.runXl();
    REQUIRE(h.view("a").state == S::Running);
    h.crashDomain(h.view("a").stubDomid);
    h.runXl();
    REQUIRE(h.view("a").state == S::Failed);
    // a again: Start after the failure; b: Stop, Start, Restart.
    h.manager->start(h.view("a").uuid, [](const auto&) {});
    h.manager->stop(h.view("b").uuid, [](const auto&) {});
    h.runXl();
    h.manager->start(h.view("b").uuid, [](const auto&) {});
    h.runXl();
    h.manager->restart(h.view("b").uuid, [](const auto&) {});
    h.runXl();
    // b: stopped while xl is still creating its stub.
    h.manager->stop(h.view("b").uuid, [](const auto&) {});
    h.runXl();
    h.manager->start(h.view("b").uuid, [](const auto&) {});
    h.step("create");
    h.manager->stop(h.view("b").uuid, [](const auto&) {});
    h.runXl();
    // nospec: its configuration appears, Reload manages it.
    h.withSpec("nospec");
    h.manager->reload();
    h.runXl();
    setLogSink({});

    CHECK(h.view("a").state == S::Running);
    CHECK(h.view("b").state == S::Stopped);
    CHECK(h.view("nospec").state == S::Running);
    CHECK(refusals.empty());
    // Every step each guest took, as its observers saw it, is in the table.
    std::map<std::string, std::optional<S>> byName;
    unsigned steps = 0;
    for (const std::string& entry : h.observer.states) {
        const auto colon = entry.rfind(':');
        const std::string name = entry.substr(0, colon);
        std::optional<S> state;
        for (S s : kAll)
            if (toString(s) == entry.substr(colon + 1))
                state = s;
        REQUIRE(state);
        if (auto before = byName[name]) {
            INFO(name << ": " << pairName(*before, *state));
            CHECK(isAllowedTransition(*before, *state));
            ++steps;
        }
        byName[name] = state;
    }
    CHECK(steps > 20);
}
