#include "supervisor/HelperSupervisor.hpp"

#include "core/Log.hpp"

#include <signal.h>

#include <algorithm>
#include <cerrno>

namespace stubdomd {

namespace {

// "1 s", "1.5 s", "250 ms"
std::string duration(std::chrono::milliseconds ms) {
    if (ms.count() < 1000)
        return std::to_string(ms.count()) + " ms";
    const auto tenths = (ms.count() % 1000) / 100;
    return std::to_string(ms.count() / 1000) + (tenths ? "." + std::to_string(tenths) : "") + " s";
}

std::uint32_t differing(const HelperView& a, const HelperView& b) {
    std::uint32_t fields = 0;
    if (a.name != b.name)
        fields |= HelperFieldName;
    if (a.state != b.state)
        fields |= HelperFieldState;
    if (a.mainPid != b.mainPid)
        fields |= HelperFieldMainPid;
    if (a.restarts != b.restarts)
        fields |= HelperFieldRestarts;
    if (a.lastExit != b.lastExit)
        fields |= HelperFieldLastExit;
    return fields;
}

} // namespace

struct HelperSupervisor::Unit {
    explicit Unit(HelperSettings s) : settings(std::move(s)), policy(settings) {
        view.name = settings.name;
        view.state = settings.enabled ? HelperState::Stopped : HelperState::Disabled;
    }

    HelperSettings settings;
    HelperView view;
    RestartPolicy policy;
    std::unique_ptr<HelperProcess> process;
    std::string why; // failed/disabled: the reason, for the gate and the log
    Timers::TimerId restartTimer = 0;
    Timers::TimerId killTimer = 0;
    bool stopping = false;       // SIGTERM sent; waiting for the process to end
    bool startAfterStop = false; // a Restart waiting for its stop
    std::vector<Completion> startWaiters;
    std::vector<Completion> stopWaiters;

    LogFields fields() const {
        LogFields f;
        f.helper = settings.name;
        return f;
    }
};

HelperSupervisor::HelperSupervisor(std::vector<HelperSettings> helpers, Timers& timers,
                                   HelperLauncher& launcher, ExportsCheck exportsCheck)
    : timers_(timers), launcher_(launcher), exportsCheck_(std::move(exportsCheck)) {
    for (auto& helper : helpers)
        units_.push_back(std::make_unique<Unit>(std::move(helper)));
}

HelperSupervisor::~HelperSupervisor() {
    for (auto& unit : units_) {
        timers_.cancel(unit->restartTimer);
        timers_.cancel(unit->killTimer);
        unit->process.reset(); // SIGKILL and reap
    }
}

void HelperSupervisor::start() {
    const bool exportsWanted =
        std::any_of(units_.begin(), units_.end(), [](const std::unique_ptr<Unit>& u) {
            return u->settings.enabled && u->settings.servesExports;
        });
    std::string exportsProblem;
    if (exportsWanted && exportsCheck_)
        exportsProblem = exportsCheck_();
    for (auto& unit : units_) {
        if (!unit->settings.enabled) {
            logInfo(unit->fields(), "disabled in the configuration");
            continue;
        }
        if (unit->settings.servesExports && !exportsProblem.empty()) {
            giveUp(*unit, HelperState::Failed, "not started: " + exportsProblem);
            continue;
        }
        launch(*unit, false);
    }
}

void HelperSupervisor::shutdown(std::function<void()> done) {
    shuttingDown_ = true;
    shutdownDone_ = std::move(done);
    for (auto& unit : units_) {
        timers_.cancel(unit->restartTimer);
        unit->restartTimer = 0;
        if (unit->startAfterStop) {
            unit->startAfterStop = false;
            finishStarts(*unit, Error(ErrorCode::Busy, "stubdomd is stopping"));
        }
        if (unit->process && !unit->stopping)
            beginStop(*unit);
    }
    checkShutdown();
}

unsigned HelperSupervisor::runningProcesses() const {
    return static_cast<unsigned>(std::count_if(
        units_.begin(), units_.end(), [](const std::unique_ptr<Unit>& u) { return !!u->process; }));
}

// ---------------------------------------------------------------------------
// Processes

bool HelperSupervisor::launch(Unit& unit, bool automatic) {
    unit.restartTimer = 0;
    const std::string name = unit.settings.name;
    try {
        unit.process = launcher_.launch(
            unit.settings, [this, name](const std::string& how) { exited(unitNamed(name), how); });
    } catch (const LaunchError& e) {
        // Absent is how current Xen ships fs-backend: a fact of the host, not a fault.
        const bool absent = e.err() == ENOENT || e.err() == ENOTDIR;
        giveUp(unit, absent ? HelperState::Disabled : HelperState::Failed, e.what());
        finishStarts(unit, Error(ErrorCode::SpawnFailed, e.what()));
        return false;
    }
    unit.why.clear();
    unit.policy.started(timers_.now());
    const auto pid = static_cast<std::uint32_t>(unit.process->pid());
    logInfo(unit.fields(), "started " + unit.settings.path + " (pid " + std::to_string(pid) + ")");
    update(unit, [&](HelperView& v) {
        v.state = HelperState::Running;
        v.mainPid = pid;
        if (automatic)
            ++v.restarts;
    });
    finishStarts(unit, std::nullopt);
    return true;
}

void HelperSupervisor::exited(Unit& unit, const std::string& how) {
    unit.process.reset();
    timers_.cancel(unit.killTimer);
    unit.killTimer = 0;
    const auto now = timers_.now();
    unit.policy.exited(now);

    if (unit.stopping) {
        unit.stopping = false;
        logInfo(unit.fields(), "stopped: " + how);
        update(unit, [&](HelperView& v) {
            v.state = HelperState::Stopped;
            v.mainPid = 0;
            v.lastExit = how;
        });
        finishStops(unit);
        if (unit.startAfterStop && !shuttingDown_) {
            unit.startAfterStop = false;
            std::string problem =
                unit.settings.servesExports && exportsCheck_ ? exportsCheck_() : std::string();
            if (problem.empty()) {
                launch(unit, false);
            } else {
                giveUp(unit, HelperState::Failed, "not started: " + problem);
                finishStarts(unit, Error(ErrorCode::SpawnFailed, problem));
            }
        }
        checkShutdown();
        return;
    }

    logWarning(unit.fields(), how);
    update(unit, [&](HelperView& v) {
        v.mainPid = 0;
        v.lastExit = how;
    });
    if (shuttingDown_) {
        update(unit, [](HelperView& v) { v.state = HelperState::Stopped; });
        checkShutdown();
        return;
    }
    if (unit.policy.limitReached(now)) {
        giveUp(unit, HelperState::Failed,
               "start limit reached: " + std::to_string(unit.settings.startLimitBurst) +
                   " starts within " +
                   duration(std::chrono::duration_cast<std::chrono::milliseconds>(
                       unit.settings.startLimitInterval)) +
                   "; Start or Restart it to try again");
        return;
    }
    const auto delay = unit.policy.nextDelay();
    logInfo(unit.fields(), "restarting in " + duration(delay));
    const std::string name = unit.settings.name;
    unit.restartTimer = timers_.after(delay, [this, name] { launch(unitNamed(name), true); });
    update(unit, [](HelperView& v) { v.state = HelperState::Restarting; });
}

void HelperSupervisor::beginStop(Unit& unit) {
    unit.stopping = true;
    logInfo(unit.fields(), "stopping (SIGTERM)");
    unit.process->signal(SIGTERM);
    killAfterTimeout(unit);
}

void HelperSupervisor::killAfterTimeout(Unit& unit) {
    const std::string name = unit.settings.name;
    unit.killTimer = timers_.after(unit.settings.stopTimeout, [this, name] {
        Unit& u = unitNamed(name);
        u.killTimer = 0;
        if (!u.process)
            return;
        logWarning(u.fields(), "still running " + duration(u.settings.stopTimeout) +
                                   " after SIGTERM; sending SIGKILL");
        u.process->signal(SIGKILL);
    });
}

void HelperSupervisor::giveUp(Unit& unit, HelperState state, const std::string& why) {
    unit.why = why;
    if (state == HelperState::Disabled && !unit.settings.required)
        logWarning(unit.fields(), why + "; stub domains start without it");
    else
        logError(unit.fields(), why);
    update(unit, [&](HelperView& v) {
        v.state = state;
        v.mainPid = 0;
        if (why.rfind("start limit", 0) != 0)
            v.lastExit = why; // no process ended: say why none runs
    });
}

void HelperSupervisor::checkShutdown() {
    if (!shuttingDown_ || !shutdownDone_ || runningProcesses() != 0)
        return;
    auto done = std::move(shutdownDone_);
    shutdownDone_ = nullptr;
    done();
}

// ---------------------------------------------------------------------------
// Commands (HelperService)

HelperSupervisor::Unit& HelperSupervisor::unitNamed(const std::string& name) {
    for (auto& unit : units_)
        if (unit->settings.name == name)
            return *unit;
    throw Error(ErrorCode::InvalidArgs, "no helper named '" + name + "'");
}

std::vector<HelperView> HelperSupervisor::helpers() const {
    std::vector<HelperView> views;
    for (const auto& unit : units_)
        views.push_back(unit->view);
    return views;
}

void HelperSupervisor::start(const std::string& name, Completion done) {
    Unit& unit = unitNamed(name);
    if (shuttingDown_)
        throw Error(ErrorCode::Busy, "stubdomd is stopping");
    if (unit.stopping)
        throw Error(ErrorCode::Busy, "helper '" + name + "' is stopping");
    if (unit.process) {
        done(std::nullopt);
        return;
    }
    // An administrator's start: whatever made it give up may be fixed now.
    timers_.cancel(unit.restartTimer);
    unit.restartTimer = 0;
    unit.policy.reset();
    if (unit.settings.servesExports && exportsCheck_) {
        if (std::string problem = exportsCheck_(); !problem.empty()) {
            giveUp(unit, HelperState::Failed, "not started: " + problem);
            throw Error(ErrorCode::SpawnFailed, problem);
        }
    }
    if (!launch(unit, false))
        throw Error(ErrorCode::SpawnFailed, unit.why);
    done(std::nullopt);
}

void HelperSupervisor::stop(const std::string& name, Completion done) {
    Unit& unit = unitNamed(name);
    if (unit.startAfterStop)
        throw Error(ErrorCode::Busy, "helper '" + name + "' is restarting");
    if (unit.process) {
        unit.stopWaiters.push_back(std::move(done));
        if (!unit.stopping)
            beginStop(unit);
        return;
    }
    timers_.cancel(unit.restartTimer);
    unit.restartTimer = 0;
    if (unit.view.state != HelperState::Disabled)
        update(unit, [](HelperView& v) { v.state = HelperState::Stopped; });
    done(std::nullopt);
}

void HelperSupervisor::restart(const std::string& name, Completion done) {
    Unit& unit = unitNamed(name);
    if (shuttingDown_)
        throw Error(ErrorCode::Busy, "stubdomd is stopping");
    if (unit.stopping)
        throw Error(ErrorCode::Busy, "helper '" + name + "' is stopping");
    if (!unit.process) {
        start(name, std::move(done));
        return;
    }
    unit.policy.reset();
    unit.startAfterStop = true;
    unit.startWaiters.push_back(std::move(done));
    beginStop(unit);
}

void HelperSupervisor::finishStarts(Unit& unit, const std::optional<Error>& error) {
    auto waiters = std::move(unit.startWaiters);
    unit.startWaiters.clear();
    for (auto& done : waiters)
        done(error);
}

void HelperSupervisor::finishStops(Unit& unit) {
    auto waiters = std::move(unit.stopWaiters);
    unit.stopWaiters.clear();
    for (auto& done : waiters)
        done(std::nullopt);
}

void HelperSupervisor::addObserver(HelperObserver& observer) {
    observers_.push_back(&observer);
}

void HelperSupervisor::removeObserver(HelperObserver& observer) {
    observers_.erase(std::remove(observers_.begin(), observers_.end(), &observer),
                     observers_.end());
}

void HelperSupervisor::update(Unit& unit, const std::function<void(HelperView&)>& change) {
    const HelperView before = unit.view;
    change(unit.view);
    const std::uint32_t fields = differing(before, unit.view);
    if (fields == 0)
        return;
    for (auto* observer : observers_)
        observer->helperChanged(unit.view, fields);
    if ((fields & HelperFieldState) && gateListener_)
        gateListener_();
}

// ---------------------------------------------------------------------------
// SpawnGate

std::string HelperSupervisor::describe(const Unit& unit) const {
    std::string text(toString(unit.view.state));
    if (!unit.why.empty())
        text += ": " + unit.why;
    return text;
}

std::string HelperSupervisor::closedBecause() const {
    for (const auto& unit : units_)
        if (unit->settings.required && unit->view.state != HelperState::Running)
            return "waiting for the required helper " + unit->settings.name + " (" +
                   describe(*unit) + ")";
    return {};
}

std::string HelperSupervisor::caveat() const {
    std::string text;
    for (const auto& unit : units_) {
        // A helper the administrator disabled is not missed.
        if (unit->settings.required || !unit->settings.enabled ||
            unit->view.state == HelperState::Running)
            continue;
        text += (text.empty() ? "" : "; ") + std::string("helper ") + unit->settings.name +
                " is not running (" + describe(*unit) + ")";
    }
    return text.empty() ? text : text + "; the stub domain starts without it";
}

} // namespace stubdomd
