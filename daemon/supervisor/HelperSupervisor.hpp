// The supervisor of the dom0 helpers that stub domains need (fs-backend first):
// starts each enabled helper, restarts it with backoff when it dies, gives up at the
// start limit, stops it with SIGTERM then SIGKILL, and answers the engine's question
// whether a stub domain may be spawned now (a `required` helper must be running).
//
// States (org.xen.Stubdom.Helper.State):
//   running     a process runs (also while a Stop waits for it to end)
//   restarting  it died; the next start waits out the backoff
//   failed      the start limit was reached, the exports tree is wrong, or the program
//               cannot be run for another reason than being absent; until Start/Restart
//   stopped     by Stop or by the daemon's shutdown; until Start
//   disabled    `enabled: false`, or the program does not exist (current Xen releases
//               ship no fs-backend)
// LastExit says how the last process ended, or why none could be started.
#pragma once

#include "core/HelperService.hpp"
#include "core/SpawnGate.hpp"
#include "core/Timers.hpp"
#include "loop/HelperLauncher.hpp"
#include "loop/RestartPolicy.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stubdomd {

class HelperSupervisor final : public HelperService, public SpawnGate {
public:
    // Checks (and makes) the exports tree; returns "" when it is right, else what is
    // wrong, naming the path. Called before a helper with `serves_exports` starts at
    // daemon start and on each Start/Restart (the administrator may have fixed it).
    using ExportsCheck = std::function<std::string()>;

    // `timers` and `launcher` must outlive the supervisor.
    HelperSupervisor(std::vector<HelperSettings> helpers, Timers& timers, HelperLauncher& launcher,
                     ExportsCheck exportsCheck);
    ~HelperSupervisor() override; // kills and reaps what still runs
    HelperSupervisor(const HelperSupervisor&) = delete;
    HelperSupervisor& operator=(const HelperSupervisor&) = delete;

    // Starts every enabled helper (the exports tree first, if one serves it).
    void start();
    // The daemon stops: no more restarts; SIGTERM to every running helper and SIGKILL
    // after its stop timeout. `done` runs once nothing runs (at once if nothing does).
    void shutdown(std::function<void()> done);
    unsigned runningProcesses() const;

    // HelperService
    std::vector<HelperView> helpers() const override;
    void start(const std::string& name, Completion done) override;
    void stop(const std::string& name, Completion done) override;
    void restart(const std::string& name, Completion done) override;
    void addObserver(HelperObserver& observer) override;
    void removeObserver(HelperObserver& observer) override;

    // SpawnGate
    std::string closedBecause() const override;
    std::string caveat() const override;
    void onChange(std::function<void()> listener) override { gateListener_ = std::move(listener); }

private:
    struct Unit;

    Unit& unitNamed(const std::string& name);
    // Starts a process; false (and the state says why) when it could not.
    bool launch(Unit& unit, bool automatic);
    void exited(Unit& unit, const std::string& how);
    void beginStop(Unit& unit);
    void killAfterTimeout(Unit& unit);
    void giveUp(Unit& unit, HelperState state, const std::string& why);
    void update(Unit& unit, const std::function<void(HelperView&)>& change);
    void finishStarts(Unit& unit, const std::optional<Error>& error);
    void finishStops(Unit& unit);
    void checkShutdown();
    std::string describe(const Unit& unit) const;

    Timers& timers_;
    HelperLauncher& launcher_;
    ExportsCheck exportsCheck_;
    std::vector<std::unique_ptr<Unit>> units_;
    std::vector<HelperObserver*> observers_;
    std::function<void()> gateListener_;
    bool shuttingDown_ = false;
    std::function<void()> shutdownDone_;
};

} // namespace stubdomd
