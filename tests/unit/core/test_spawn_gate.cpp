// The engine and its spawn gate: while a required helper is not running, spawns wait
// in the queue (in order) and each waiting guest says why; when it runs, they go.
#include "EngineHarness.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using namespace stubdomd::fakes;

namespace {

struct GatedHarness : Harness {
    FakeGate gate;
    void startGated() {
        startManagerWith([this](GuestManager& m) { m.setSpawnGate(gate); });
    }
};

class LogCapture {
public:
    std::vector<std::string> lines;
    LogCapture()
        : previous_(setLogSink([this](LogLevel level, const LogFields& f, const std::string& m) {
              if (level == LogLevel::Warning)
                  lines.push_back(f.guestName + ": " + m);
          })) {}
    ~LogCapture() { setLogSink(previous_); }

private:
    LogSink previous_;
};

} // namespace

TEST_CASE("a closed gate holds spawns and the guest says why", "[gate]") {
    GatedHarness h;
    h.withSpec("a");
    h.gate.why = "waiting for the required helper fs-backend (restarting)";
    h.startGated();
    h.addGuest("a");

    CHECK(h.toolstack.count("create") == 0);
    CHECK(h.view("a").state == GuestState::Pending);
    CHECK(h.view("a").stateReason == "waiting for the required helper fs-backend (restarting)");

    // The reason follows the gate while it stays closed.
    h.gate.set("waiting for the required helper fs-backend (failed: start limit reached)");
    h.settle();
    CHECK(h.view("a").stateReason ==
          "waiting for the required helper fs-backend (failed: start limit reached)");
    CHECK(h.toolstack.count("create") == 0);

    h.gate.set("");
    h.settle();
    CHECK(h.toolstack.count("create") == 1);
    CHECK(h.view("a").state == GuestState::Spawning);
    CHECK(h.view("a").stateReason.empty());
    h.runXl();
    CHECK(h.view("a").state == GuestState::Running);
}

TEST_CASE("queued guests leave a reopened gate in arrival order, within the spawn limit",
          "[gate]") {
    GatedHarness h;
    h.settings.maxParallelSpawns = 2;
    for (const char* name : {"a", "b", "c"})
        h.withSpec(name);
    h.gate.why = "waiting";
    h.startGated();
    h.addGuest("a");
    h.addGuest("b");
    h.addGuest("c");
    CHECK(h.toolstack.count("create") == 0);

    h.gate.set("");
    h.settle();
    CHECK(h.toolstack.count("create") == 2);
    CHECK(h.view("a").state == GuestState::Spawning);
    CHECK(h.view("b").state == GuestState::Spawning);
    CHECK(h.view("c").state == GuestState::Pending);
    h.runXl();
    for (const char* name : {"a", "b", "c"})
        CHECK(h.view(name).state == GuestState::Running);
}

TEST_CASE("a gate that closes again stops the queue but not running spawns", "[gate]") {
    GatedHarness h;
    h.settings.maxParallelSpawns = 1;
    h.withSpec("a");
    h.withSpec("b");
    h.startGated();
    h.addGuest("a");
    h.addGuest("b");
    CHECK(h.view("a").state == GuestState::Spawning);
    h.gate.set("waiting for the required helper fs-backend (restarting)");
    h.runXl(); // a finishes: its slot frees, but b must wait
    CHECK(h.view("a").state == GuestState::Running);
    CHECK(h.view("b").state == GuestState::Pending);
    CHECK(h.view("b").stateReason == "waiting for the required helper fs-backend (restarting)");
    h.gate.set("");
    h.runXl();
    CHECK(h.view("b").state == GuestState::Running);
}

TEST_CASE("an open gate with a caveat lets spawns go, with a warning on the guest", "[gate]") {
    LogCapture log;
    GatedHarness h;
    h.withSpec("a");
    h.gate.warning = "helper fs-backend is not running (disabled)";
    h.startGated();
    h.addGuest("a");
    h.runXl();
    CHECK(h.view("a").state == GuestState::Running);
    CHECK(std::count(log.lines.begin(), log.lines.end(),
                     "a: helper fs-backend is not running (disabled)") == 1);
}

TEST_CASE("without a gate nothing waits", "[gate]") {
    Harness h;
    h.withSpec("a");
    h.startManager();
    h.addGuest("a");
    h.runXl();
    CHECK(h.view("a").state == GuestState::Running);
}
