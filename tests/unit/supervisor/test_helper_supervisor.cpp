// The supervisor's state machine on a fake clock and fake processes: exact backoff
// sequences, the start limit, stop and kill, the spawn gate and the exports check.
#include "FakeLauncher.hpp"
#include "core/Fakes.hpp"
#include "supervisor/HelperSupervisor.hpp"

#include <catch2/catch.hpp>

#include <signal.h>

using namespace stubdomd;
using namespace stubdomd::fakes;
using namespace std::chrono_literals;

namespace {

HelperSettings helper(const std::string& name, bool required = false) {
    HelperSettings h;
    h.name = name;
    h.path = "/usr/sbin/" + name;
    h.required = required;
    return h;
}

struct Recorder : HelperObserver {
    std::vector<std::string> states; // "name:state" on each State change
    void helperChanged(const HelperView& v, std::uint32_t fields) override {
        if (fields & HelperFieldState)
            states.push_back(v.name + ":" + std::string(toString(v.state)));
    }
};

struct Fixture {
    FakeTimers timers;
    FakeLauncher launcher;
    std::string exportsProblem;
    unsigned exportsChecks = 0;
    std::unique_ptr<HelperSupervisor> supervisor;
    Recorder recorder;

    explicit Fixture(std::vector<HelperSettings> helpers) {
        supervisor =
            std::make_unique<HelperSupervisor>(std::move(helpers), timers, launcher, [this] {
                ++exportsChecks;
                return exportsProblem;
            });
        supervisor->addObserver(recorder);
    }
    HelperView view(const std::string& name) const {
        for (const auto& v : supervisor->helpers())
            if (v.name == name)
                return v;
        throw std::runtime_error("no helper " + name);
    }
    // Runs a command and returns what its completion said ("ok", the error, or
    // "pending" when it has not completed yet).
    std::shared_ptr<std::string> command(void (HelperService::*cmd)(const std::string&, Completion),
                                         const std::string& name) {
        auto result = std::make_shared<std::string>("pending");
        try {
            (supervisor.get()->*cmd)(name, [result](const std::optional<Error>& e) {
                *result = e ? std::string(e->what()) : "ok";
            });
        } catch (const Error& e) {
            *result = std::string("threw: ") + e.what();
        }
        return result;
    }
    std::chrono::milliseconds nextTimer() const {
        auto earliest = Clock::time_point::max();
        for (const auto& [id, t] : timers.timers)
            earliest = std::min(earliest, t.first);
        return std::chrono::duration_cast<std::chrono::milliseconds>(earliest - timers.current);
    }
};

} // namespace

TEST_CASE("a helper that crashes at once is restarted after 1, 2, 4, 8 s, then fails at the "
          "start limit until Restart",
          "[supervisor]") {
    Fixture f({helper("fs-backend")});
    f.supervisor->start();
    CHECK(f.launcher.starts("fs-backend") == 1);
    CHECK(f.view("fs-backend").state == HelperState::Running);
    CHECK(f.view("fs-backend").mainPid == 1000);

    std::vector<std::chrono::milliseconds> delays;
    for (int i = 0; i < 4; ++i) {
        f.launcher.exit("fs-backend", "exited with status 3");
        CHECK(f.view("fs-backend").state == HelperState::Restarting);
        CHECK(f.view("fs-backend").mainPid == 0);
        CHECK(f.view("fs-backend").lastExit == "exited with status 3");
        delays.push_back(f.nextTimer());
        f.timers.advance(f.nextTimer());
        CHECK(f.view("fs-backend").state == HelperState::Running);
    }
    CHECK(delays == std::vector<std::chrono::milliseconds>{1s, 2s, 4s, 8s});
    CHECK(f.launcher.starts("fs-backend") == 5);
    CHECK(f.view("fs-backend").restarts == 4);

    // The fifth start within 60 s dies too: the limit is reached.
    f.launcher.exit("fs-backend", "killed by signal 11");
    CHECK(f.view("fs-backend").state == HelperState::Failed);
    CHECK(f.view("fs-backend").lastExit == "killed by signal 11");
    CHECK(f.timers.timers.empty());
    f.timers.advance(600s);
    CHECK(f.launcher.starts("fs-backend") == 5);

    // Restart clears it: a fresh start and a fresh backoff.
    CHECK(*f.command(&HelperService::restart, "fs-backend") == "ok");
    CHECK(f.view("fs-backend").state == HelperState::Running);
    CHECK(f.launcher.starts("fs-backend") == 6);
    f.launcher.exit("fs-backend");
    CHECK(f.nextTimer() == 1s);
}

TEST_CASE("the backoff doubles up to its maximum", "[supervisor]") {
    HelperSettings h = helper("fs-backend");
    h.startLimitBurst = 100;
    Fixture f({h});
    f.supervisor->start();
    std::vector<long> delays;
    for (int i = 0; i < 9; ++i) {
        f.launcher.exit("fs-backend");
        delays.push_back(static_cast<long>(f.nextTimer().count() / 1000));
        f.timers.advance(f.nextTimer());
    }
    CHECK(delays == std::vector<long>{1, 2, 4, 8, 16, 32, 60, 60, 60});
}

TEST_CASE("the backoff and the limit come from the helper's settings", "[supervisor]") {
    HelperSettings h = helper("fs-backend");
    h.restartDelay = 100ms;
    h.restartDelayMax = 300ms;
    h.startLimitBurst = 4;
    Fixture f({h});
    f.supervisor->start();
    std::vector<std::chrono::milliseconds> delays;
    for (int i = 0; i < 3; ++i) {
        f.launcher.exit("fs-backend");
        delays.push_back(f.nextTimer());
        f.timers.advance(f.nextTimer());
    }
    CHECK(delays == std::vector<std::chrono::milliseconds>{100ms, 200ms, 300ms});
    f.launcher.exit("fs-backend");
    CHECK(f.view("fs-backend").state == HelperState::Failed);
}

TEST_CASE("starts older than the interval do not count, and a long run resets the backoff",
          "[supervisor]") {
    Fixture f({helper("fs-backend")});
    f.supervisor->start();
    f.launcher.exit("fs-backend");
    f.timers.advance(f.nextTimer()); // 1 s
    f.launcher.exit("fs-backend");
    CHECK(f.nextTimer() == 2s);
    f.timers.advance(f.nextTimer());
    // Healthy for two minutes: the next death starts over at 1 s.
    f.timers.advance(120s);
    f.launcher.exit("fs-backend");
    CHECK(f.nextTimer() == 1s);
    // Sparse crashes, one every 2 minutes, never reach the limit.
    for (int i = 0; i < 10; ++i) {
        f.timers.advance(f.nextTimer());
        f.timers.advance(120s);
        f.launcher.exit("fs-backend");
        CHECK(f.view("fs-backend").state == HelperState::Restarting);
    }
}

TEST_CASE("Stop sends SIGTERM, then SIGKILL after the stop timeout, and no restart follows",
          "[supervisor]") {
    HelperSettings h = helper("fs-backend");
    h.stopTimeout = 700ms;
    Fixture f({h});
    f.supervisor->start();
    auto stopped = f.command(&HelperService::stop, "fs-backend");
    CHECK(*stopped == "pending");
    CHECK(f.launcher.last("fs-backend").signals == std::vector<int>{SIGTERM});
    CHECK(f.view("fs-backend").state == HelperState::Running); // until it is gone
    f.timers.advance(699ms);
    CHECK(f.launcher.last("fs-backend").signals == std::vector<int>{SIGTERM});
    f.timers.advance(1ms);
    CHECK(f.launcher.last("fs-backend").signals == std::vector<int>{SIGTERM, SIGKILL});
    f.launcher.exit("fs-backend", "killed by signal 9");
    CHECK(*stopped == "ok");
    CHECK(f.view("fs-backend").state == HelperState::Stopped);
    CHECK(f.view("fs-backend").lastExit == "killed by signal 9");
    CHECK(f.timers.timers.empty());

    // Stopping a stopped helper does nothing; Start brings it back.
    CHECK(*f.command(&HelperService::stop, "fs-backend") == "ok");
    CHECK(*f.command(&HelperService::start, "fs-backend") == "ok");
    CHECK(f.view("fs-backend").state == HelperState::Running);
    CHECK(f.launcher.starts("fs-backend") == 2);
}

TEST_CASE("a helper that ends on SIGTERM is not killed", "[supervisor]") {
    Fixture f({helper("fs-backend")});
    f.supervisor->start();
    auto stopped = f.command(&HelperService::stop, "fs-backend");
    f.launcher.exit("fs-backend", "killed by signal 15");
    CHECK(*stopped == "ok");
    f.timers.advance(60s);
    CHECK(f.launcher.last("fs-backend").signals == std::vector<int>{SIGTERM});
}

TEST_CASE("Restart of a running helper stops it, then replies once the new one runs",
          "[supervisor]") {
    Fixture f({helper("fs-backend")});
    f.supervisor->start();
    auto restarted = f.command(&HelperService::restart, "fs-backend");
    CHECK(*restarted == "pending");
    CHECK(*f.command(&HelperService::start, "fs-backend") ==
          "threw: helper 'fs-backend' is stopping");
    f.launcher.exit("fs-backend", "exited with status 0");
    CHECK(*restarted == "ok");
    CHECK(f.launcher.starts("fs-backend") == 2);
    CHECK(f.view("fs-backend").state == HelperState::Running);
    CHECK(f.view("fs-backend").mainPid == 1001);
    CHECK(f.view("fs-backend").restarts == 0); // an administrator's, not an automatic one
}

TEST_CASE("a missing program makes the helper disabled with the reason; the gate stays open "
          "with a caveat",
          "[supervisor]") {
    Fixture f({helper("fs-backend")});
    f.launcher.failWith["fs-backend"] = ENOENT;
    f.supervisor->start();
    const HelperView v = f.view("fs-backend");
    CHECK(v.state == HelperState::Disabled);
    CHECK(v.lastExit == "cannot run /usr/sbin/fs-backend: No such file or directory");
    CHECK(f.supervisor->closedBecause().empty());
    CHECK(f.supervisor->caveat() ==
          "helper fs-backend is not running (disabled: cannot run /usr/sbin/fs-backend: No such "
          "file or directory); the stub domain starts without it");
    CHECK(f.timers.timers.empty());
    // Start tries again and says why it cannot.
    CHECK(*f.command(&HelperService::start, "fs-backend") ==
          "threw: cannot run /usr/sbin/fs-backend: No such file or directory");
}

TEST_CASE("a program that cannot run for another reason fails", "[supervisor]") {
    Fixture f({helper("fs-backend")});
    f.launcher.failWith["fs-backend"] = EACCES;
    f.supervisor->start();
    CHECK(f.view("fs-backend").state == HelperState::Failed);
}

TEST_CASE("a required helper closes the gate until it runs", "[supervisor]") {
    Fixture f({helper("fs-backend", true), helper("other")});
    unsigned changes = 0;
    f.supervisor->onChange([&] { ++changes; });
    CHECK(f.supervisor->closedBecause() == "waiting for the required helper fs-backend (stopped)");
    f.supervisor->start();
    CHECK(f.supervisor->closedBecause().empty());
    CHECK(f.supervisor->caveat().empty());

    changes = 0;
    f.launcher.exit("fs-backend");
    CHECK(changes == 1);
    CHECK(f.supervisor->closedBecause() ==
          "waiting for the required helper fs-backend (restarting)");
    f.timers.advance(1s);
    CHECK(changes == 2);
    CHECK(f.supervisor->closedBecause().empty());

    // Missing and required: the gate stays closed and says why.
    f.launcher.failWith["fs-backend"] = ENOENT;
    f.launcher.exit("fs-backend");
    f.timers.advance(2s);
    CHECK(f.view("fs-backend").state == HelperState::Disabled);
    CHECK(f.supervisor->closedBecause() ==
          "waiting for the required helper fs-backend (disabled: cannot run "
          "/usr/sbin/fs-backend: No such file or directory)");
}

TEST_CASE("a helper disabled in the configuration is not started and not missed", "[supervisor]") {
    HelperSettings h = helper("fs-backend");
    h.enabled = false;
    Fixture f({h});
    f.supervisor->start();
    CHECK(f.launcher.starts("fs-backend") == 0);
    CHECK(f.view("fs-backend").state == HelperState::Disabled);
    CHECK(f.supervisor->caveat().empty());
    // Start still starts it (org.xen.Stubdom.Helper.Start).
    CHECK(*f.command(&HelperService::start, "fs-backend") == "ok");
    CHECK(f.view("fs-backend").state == HelperState::Running);
}

TEST_CASE("a wrong exports tree keeps the helper that serves it from starting", "[supervisor]") {
    HelperSettings fs = helper("fs-backend");
    fs.servesExports = true;
    Fixture f({fs, helper("other")});
    f.exportsProblem = "exports tree: refusing /exports/usr/share: it is a symbolic link";
    f.supervisor->start();
    CHECK(f.exportsChecks == 1);
    CHECK(f.launcher.starts("fs-backend") == 0);
    CHECK(f.launcher.starts("other") == 1);
    CHECK(f.view("fs-backend").state == HelperState::Failed);
    CHECK(f.view("fs-backend").lastExit ==
          "not started: exports tree: refusing /exports/usr/share: it is a symbolic link");

    // Start checks again: still wrong, then fixed.
    CHECK(*f.command(&HelperService::start, "fs-backend") ==
          "threw: exports tree: refusing /exports/usr/share: it is a symbolic link");
    f.exportsProblem.clear();
    CHECK(*f.command(&HelperService::start, "fs-backend") == "ok");
    CHECK(f.view("fs-backend").state == HelperState::Running);
    CHECK(f.exportsChecks == 3);
}

TEST_CASE("shutdown stops every helper, kills the stubborn one and restarts none", "[supervisor]") {
    HelperSettings a = helper("a"), b = helper("b"), c = helper("c");
    b.stopTimeout = 2s;
    Fixture f({a, b, c});
    f.supervisor->start();
    f.launcher.exit("c"); // c waits out its backoff
    bool done = false;
    f.supervisor->shutdown([&] { done = true; });
    CHECK(f.launcher.last("a").signals == std::vector<int>{SIGTERM});
    CHECK(f.launcher.last("b").signals == std::vector<int>{SIGTERM});
    f.launcher.exit("a", "exited with status 0");
    CHECK_FALSE(done);
    f.timers.advance(2s);
    CHECK(f.launcher.last("b").signals == std::vector<int>{SIGTERM, SIGKILL});
    f.launcher.exit("b", "killed by signal 9");
    CHECK(done);
    f.timers.advance(600s);
    CHECK(f.launcher.starts("c") == 1);
    CHECK(f.supervisor->runningProcesses() == 0);
    CHECK(*f.command(&HelperService::start, "a") == "threw: stubdomd is stopping");
}

TEST_CASE("a Restart caught by the shutdown is answered, not left hanging", "[supervisor]") {
    Fixture f({helper("a")});
    f.supervisor->start();
    auto restarted = f.command(&HelperService::restart, "a");
    CHECK(*restarted == "pending");
    bool done = false;
    f.supervisor->shutdown([&] { done = true; });
    CHECK(*restarted == "stubdomd is stopping");
    f.launcher.exit("a", "killed by signal 15");
    CHECK(done);
    CHECK(f.launcher.starts("a") == 1);
}

TEST_CASE("shutdown with nothing running is done at once; the destructor kills the rest",
          "[supervisor]") {
    {
        Fixture f({helper("a")});
        bool done = false;
        f.supervisor->shutdown([&] { done = true; });
        CHECK(done);
    }
    Fixture f({helper("a"), helper("b")});
    f.supervisor->start();
    f.supervisor.reset();
    CHECK(f.launcher.killedByDestructor == 2);
    CHECK(f.timers.timers.empty());
}

TEST_CASE("observers see each state change once, and unknown names are refused", "[supervisor]") {
    Fixture f({helper("fs-backend")});
    f.supervisor->start();
    f.launcher.exit("fs-backend");
    f.timers.advance(1s);
    f.command(&HelperService::stop, "fs-backend");
    f.launcher.exit("fs-backend", "exited with status 0");
    CHECK(f.recorder.states ==
          std::vector<std::string>{"fs-backend:running", "fs-backend:restarting",
                                   "fs-backend:running", "fs-backend:stopped"});
    CHECK(*f.command(&HelperService::start, "nope") == "threw: no helper named 'nope'");
}
