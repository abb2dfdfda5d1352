// The commands on their own, over the real registry, spawn pipeline, teardown and
// waiters: Stop and Restart through xl's answers, each reply given once and at the end,
// and the refusals that name the guest's state.
#include "ComponentHarness.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using namespace stubdomd::fakes;

namespace {

// web (domid 5) running on its stub 9, with its stub config on disk.
void runningWeb(Components& c) {
    c.withSpec("web");
    auto& web = c.guest(5, "web");
    c.pipeline->enqueue(web);
    c.created(9);
    c.running(5, 9);
    REQUIRE(c.state(5) == GuestState::Running);
}

// A reply, as the D-Bus layer keeps it: "" until answered, then "ok" or the error.
struct Reply {
    std::string said;
    unsigned times = 0;
    Completion done() {
        return [this](const std::optional<Error>& e) {
            said = e ? e->what() : "ok";
            ++times;
        };
    }
};

} // namespace

TEST_CASE("commands: Stop answers once xl destroyed the stub; Restart starts it again") {
    Components c;
    runningWeb(c);
    Reply stop;
    c.commands->stop("web-uuid", stop.done());
    CHECK(c.state(5) == GuestState::Stopping);
    CHECK(stop.times == 0); // xl has not answered yet
    Reply again;
    c.commands->stop("web-uuid", again.done()); // a second Stop joins the first
    REQUIRE(c.toolstack.complete("destroy"));
    CHECK(c.state(5) == GuestState::Stopped);
    CHECK(c.registry.byDomid(5)->view.stubDomid == 0);
    CHECK((stop.said == "ok" && stop.times == 1 && again.said == "ok" && again.times == 1));

    Reply start;
    c.commands->start("web-uuid", {}, start.done()); // the start goes through the queue
    c.created(10);
    c.running(5, 10);
    REQUIRE(c.state(5) == GuestState::Running);
    CHECK((start.said == "ok" && start.times == 1));

    Reply restart;
    c.commands->restart("web-uuid", {}, restart.done());
    CHECK(c.state(5) == GuestState::Stopping);
    REQUIRE(c.toolstack.complete("destroy"));
    CHECK(c.state(5) == GuestState::Spawning); // the Restart's start, after the stop
    CHECK(restart.times == 0);
    c.created(11);
    c.running(5, 11);
    CHECK((restart.said == "ok" && restart.times == 1));
    CHECK(c.registry.byDomid(5)->view.stubDomid == 11);
}

TEST_CASE("commands: Stop while xl creates the stub cancels the Start, answered once") {
    Components c;
    c.withSpec("web");
    c.guest(5, "web");
    Reply start;
    c.commands->start("web-uuid", {}, start.done());
    CHECK(c.state(5) == GuestState::Spawning);
    Reply stop;
    c.commands->stop("web-uuid", stop.done());
    CHECK(start.said == "the start of web was cancelled by Stop");
    CHECK(stop.times == 0); // xl is still creating: its answer ends the stop
    c.created(9);           // the orphan is destroyed
    CHECK(c.state(5) == GuestState::Stopped);
    CHECK((stop.said == "ok" && stop.times == 1 && start.times == 1));
}

TEST_CASE("commands: refusals name the guest and its state") {
    Components c;
    runningWeb(c);
    const auto refused = [](const std::function<void()>& command) -> std::string {
        try {
            command();
        } catch (const Error& e) {
            return std::string(toString(e.code())) + ": " + e.what();
        }
        return "accepted";
    };
    const Completion ignore = [](const std::optional<Error>&) {
    };
    CHECK(refused([&] { c.commands->start("web-uuid", {}, ignore); }) ==
          std::string(toString(ErrorCode::InvalidState)) + ": guest web is already running");
    CHECK(refused([&] { c.commands->start("nobody", {}, ignore); }) ==
          std::string(toString(ErrorCode::NoSuchGuest)) + ": no guest with uuid nobody");
    CHECK(refused([&] { c.commands->resume("web-uuid", ignore); }) ==
          std::string(toString(ErrorCode::InvalidState)) +
              ": guest web is not paused (it is running)");
    for (DomId d : {5, 9})
        c.hypervisor.domains[d] = DomainInfo{d, d == 5, false, false, false, 262144};
    c.commands->pause("web-uuid", ignore);
    CHECK(c.state(5) == GuestState::Paused);
    CHECK(c.hypervisor.pauseCalls.size() == 2); // the guest and its stub
    CHECK(refused([&] { c.commands->stop("web-uuid", ignore); }) ==
          std::string(toString(ErrorCode::InvalidState)) +
              ": guest web is paused; resume it before stopping its stub domain");
}
