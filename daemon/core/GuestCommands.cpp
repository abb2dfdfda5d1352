// What happens on request (Start, Stop, Restart, Attach, Reload) and when a stub
// domain dies on its own (the on_stubdom_death policy).
#include "core/GuestManager.hpp"

#include "core/ConsoleTail.hpp"
#include "core/GuestStates.hpp"
#include "core/Log.hpp"
#include "core/StubDeath.hpp"
#include "core/ToolErrors.hpp"
#include "core/XenPaths.hpp"

#include <algorithm>

namespace stubdomd {

namespace {
// A stub domain that ran this long before dying counts as a fresh failure for the
// `restart` policy's limit, not as one more in a crash loop.
constexpr auto kRestartForgiveness = std::chrono::seconds(60);
} // namespace

// ---------------------------------------------------------------------------
// A stub domain died on its own

// The guest keeps running (or is being crashed) without a device model: failed, with
// why, and the death itself as the last error.
void GuestManager::failAfterStubDeath(Guest& guest, const std::string& death,
                                      const std::string& reason) {
    registry_.fail(guest, reason, death);
    logError(fieldsOf(guest), reason);
}

void GuestManager::stubDied(Guest& guest, DomId stub, std::optional<unsigned> shutdownReason) {
    bool wasRunning = guest.view.state == GuestState::Running;
    bool wasPaused = guest.view.state == GuestState::Paused;
    // Why, read before the stub is destroyed: the hypervisor's reason, and its console's
    // last lines (the log file outlives the copying).
    const std::string tail =
        consoles_.logging() ? consoleTail(consoles_.logOf(guest.view.name), guest.consoleLogFrom)
                            : "";
    const StubDeath death = explainStubDeath(shutdownReason, tail);
    spawns_.stopWatching(guest);
    spawns_.destroyStub(stub); // a crashed domain lingers until destroyed
    linker_.tearDown(guest.view.domid, guest.view.uuid, Unlink::Links, fieldsOf(guest));
    const std::string stubName = guest.view.name + "-dm (domid " + std::to_string(stub) + ")";
    const std::string died = stubName + " died: " + death.summary;
    std::string what = died;
    if (!tail.empty())
        what += "; its console ended with: " + tail;
    if (wasPaused) {
        guest.deathWhilePaused = std::make_pair(stub, what);
        registry_.transition(guest, GuestState::Paused,
                             what +
                                 " while the guest was paused; on_stubdom_death applies when it is "
                                 "resumed",
                             [&](GuestView& v) {
                                 releaseStub(guest, v);
                                 v.lastError = what;
                             });
        logWarning(fieldsOf(guest), what + " while the guest was paused");
    } else if (!wasRunning) {
        registry_.mutate(guest, [&](GuestView& v) { releaseStub(guest, v); });
        // failSpawn quotes the console itself.
        spawns_.failSpawn(guest, ErrorCode::SpawnFailed,
                          stubName + " died while starting: " + death.summary);
    } else {
        registry_.mutate(guest, [&](GuestView& v) { releaseStub(guest, v); });
        applyStubDeathPolicy(guest, stub, what);
    }
    // After LastError is set: a VM manager that reads it on the signal sees this death.
    if (Guest* still = registry_.byDomid(guest.view.domid))
        registry_.stubFailed(*still, toString(death.cause), what);
}

// on_stubdom_death, for a running guest whose stub domain `stub` is already released.
void GuestManager::applyStubDeathPolicy(Guest& guest, DomId stub, const std::string& what) {
    switch (settings_.onStubdomDeath) {
    case StubDeathPolicy::CrashGuest: {
        failAfterStubDeath(guest, what,
                           what + "; the guest was crashed (on_stubdom_death = crash-guest)");
        try {
            deps_.hypervisor.crash(guest.view.domid);
        } catch (const Error& e) {
            logError(fieldsOf(guest), std::string("crashing the guest: ") + e.what());
        }
        return;
    }
    case StubDeathPolicy::Leave: {
        failAfterStubDeath(
            guest, what,
            what + "; the guest was left running without it (on_stubdom_death = leave)");
        return;
    }
    case StubDeathPolicy::Restart: {
        if (deps_.timers.now() - guest.runningSince > kRestartForgiveness)
            guest.consecutiveRestarts = 0;
        if (guest.consecutiveRestarts >= settings_.maxRestarts) {
            failAfterStubDeath(guest, what,
                               what + "; restarted " + std::to_string(guest.consecutiveRestarts) +
                                   " times in a row, giving up (max_restarts)");
            return;
        }
        ++guest.consecutiveRestarts;
        registry_.transition(guest, GuestState::Pending,
                             what + "; restarting it (on_stubdom_death = restart)",
                             [&](GuestView& v) {
                                 v.restarts += 1;
                                 v.lastError = what;
                             });
        logWarning(fieldsOf(guest), what + "; restarting it");
        // The new stub domain has the same name: wait until the old one is gone.
        spawns_.respawnAfter(guest, stub);
        return;
    }
    }
}

// ---------------------------------------------------------------------------
// Commands (GuestService)

std::string GuestManager::consoleLog(const std::string& uuid) const {
    const auto view = registry_.find(uuid);
    if (!view || view->uuid != uuid)
        throw Error(ErrorCode::NoSuchGuest, "no guest with uuid " + uuid);
    if (!consoles_.logging())
        throw Error(ErrorCode::NotSupported, "stub consoles are not logged");
    return consoles_.logOf(view->name);
}

int GuestManager::followConsoleLog(const std::string& uuid) {
    const std::string log = consoleLog(uuid); // throws for an unknown guest, no logs
    const int fd = consoles_.openFollower(registry_.find(uuid)->name);
    if (fd < 0)
        throw Error(ErrorCode::Busy, "cannot follow " + log +
                                         " now (too many followers, or "
                                         "out of descriptors)");
    return fd;
}

GuestManager::Guest& GuestManager::guestByUuid(const std::string& uuid) {
    Guest* guest = registry_.byUuid(uuid);
    if (guest && guest->announced)
        return *guest;
    throw Error(ErrorCode::NoSuchGuest, "no guest with uuid " + uuid);
}

void GuestManager::startGuest(Guest& guest, Completion done) {
    if (guest.view.flavour == Flavour::PvGrub)
        throw Error(ErrorCode::NotHvm, "guest " + guest.view.name +
                                           " is a PV guest booted through PV-GRUB; it has no "
                                           "device model, and stubdomd only lists it");
    GuestState s = guest.view.state;
    if (s == GuestState::Running) {
        throw Error(ErrorCode::InvalidState, "guest " + guest.view.name + " is already running");
    }
    if (s == GuestState::Paused)
        throw Error(ErrorCode::InvalidState,
                    "guest " + guest.view.name + " is paused with its stub domain; resume it");
    if (s == GuestState::Stopping) {
        throw Error(ErrorCode::Busy,
                    "guest " + guest.view.name + " is stopping; try again when it has stopped");
    }
    if (isInProgress(s)) {
        guest.startWaiters.push_back(std::move(done));
        return;
    }
    // Stopped, Failed or Unmanaged: read the stub config again, so an edit applies.
    loadSpec(guest);
    if (guest.configError)
        throw Error(guest.configErrorCode, guest.view.stateReason);
    if (!guest.spec)
        throw Error(ErrorCode::InvalidConfig, guest.view.stateReason);
    guest.consecutiveRestarts = 0;
    guest.startWaiters.push_back(std::move(done));
    spawns_.enqueue(guest);
}

void GuestManager::start(const std::string& uuid, Completion done) {
    Guest& guest = guestByUuid(uuid);
    if (guest.view.state == GuestState::Starting || guest.view.state == GuestState::Spawning ||
        guest.view.state == GuestState::Linking || guest.view.state == GuestState::Pending)
        throw Error(ErrorCode::InvalidState, "guest " + guest.view.name + " is already starting");
    startGuest(guest, std::move(done));
}

void GuestManager::stopGuest(Guest& guest, Completion done) {
    switch (guest.view.state) {
    case GuestState::Unmanaged:
        throw Error(ErrorCode::InvalidState, "guest " + guest.view.name +
                                                 " is not managed by stubdomd (" +
                                                 guest.view.stateReason + ")");
    case GuestState::Stopped:
    case GuestState::Failed:
        if (guest.view.stubDomid == 0)
            throw Error(ErrorCode::InvalidState,
                        "guest " + guest.view.name + " has no stub domain to stop");
        break;
    case GuestState::Stopping:
        guest.stopWaiters.push_back(std::move(done));
        return;
    default:
        break;
    }
    guest.stopWaiters.push_back(std::move(done));
    completeStart(guest, Error(ErrorCode::InvalidState,
                               "the start of " + guest.view.name + " was cancelled by Stop"));
    DomId stub = guest.view.stubDomid;
    registry_.transition(guest, GuestState::Stopping, "stopping on request");
    // xl may still be creating it: then the attempt's callback destroys what it made.
    const bool xlAnswers = spawns_.cancel(guest);
    if (!stub) {
        if (!xlAnswers)
            spawns_.abortAttempt(guest);
        return;
    }
    DomId g = guest.view.domid;
    deps_.toolstack.destroy(stub, [this, g, stub](const ToolResult& r) {
        Guest* again = registry_.byDomid(g);
        if (!again)
            return;
        linker_.tearDown(g, again->view.uuid, Unlink::Links, fieldsOf(*again));
        if (!r.ok()) {
            std::string reason =
                "xl destroy " + std::to_string(stub) + " failed: " + toolErrors(r.errors);
            registry_.fail(*again, reason);
            completeStop(*again, Error(ErrorCode::Internal, reason));
            return;
        }
        spawns_.forget(g);
        registry_.transition(*again, GuestState::Stopped, "stopped on request",
                             [&](GuestView& v) { releaseStub(*again, v); });
        logInfo(fieldsOf(*again), "stub domain stopped");
        completeStop(*again, std::nullopt);
        if (again->startAfterStop) {
            again->startAfterStop = false;
            spawns_.enqueue(*again);
        }
    });
}

// A paused guest keeps its stub domain: stopping it under the guest would leave a guest
// that cannot run when resumed, and a stopped guest stubdomd could no longer resume.
static void refuseWhilePaused(const GuestView& view, const char* what) {
    if (view.state == GuestState::Paused)
        throw Error(ErrorCode::InvalidState, "guest " + view.name +
                                                 " is paused; resume it before " + what +
                                                 " its stub domain");
}

void GuestManager::stop(const std::string& uuid, Completion done) {
    Guest& guest = guestByUuid(uuid);
    refuseWhilePaused(guest.view, "stopping");
    stopGuest(guest, std::move(done));
}

void GuestManager::restart(const std::string& uuid, Completion done) {
    Guest& guest = guestByUuid(uuid);
    refuseWhilePaused(guest.view, "restarting");
    if (guest.view.state == GuestState::Stopped || guest.view.state == GuestState::Failed) {
        if (guest.view.stubDomid == 0) {
            startGuest(guest, std::move(done));
            return;
        }
    }
    if (guest.view.state == GuestState::Unmanaged || guest.view.state == GuestState::Stopping)
        throw Error(ErrorCode::InvalidState, "guest " + guest.view.name +
                                                 " cannot be restarted while " +
                                                 std::string(toString(guest.view.state)));
    // Re-read the stub config first, so a broken edit is refused before anything stops.
    auto spec = deps_.specs.load(guest.view.name);
    if (!spec)
        throw Error(ErrorCode::InvalidConfig, "no stub-domain configuration " +
                                                  settings_.xenConfigDir + "/stubdom-" +
                                                  guest.view.name);
    guest.spec = spec;
    display_.resolve(guest); // a display choice that breaks a rule is refused here too
    // Stopping cancels the start waiters of the old stub domain; this one waits for
    // the new stub domain, so it joins after.
    // A queued guest stops at once, so the restart must be asked for before.
    guest.startAfterStop = true;
    try {
        stopGuest(guest, [](const std::optional<Error>&) {});
    } catch (...) {
        guest.startAfterStop = false;
        throw;
    }
    guest.startWaiters.push_back(std::move(done));
}

void GuestManager::attach(DomId domid, Completion done) {
    if (registry_.stubLinks().count(domid))
        throw Error(ErrorCode::NotHvm, "domain " + std::to_string(domid) + " is a stub domain");
    if (!registry_.guests().count(domid))
        rescan(); // stubdom-dm may be quicker than the @introduceDomain event
    Guest* guest = registry_.byDomid(domid);
    if (!guest) {
        auto seen = registry_.seen().find(domid);
        if (seen == registry_.seen().end())
            throw Error(ErrorCode::NoSuchGuest, "no domain with domid " + std::to_string(domid));
        if (!seen->second.hvm)
            throw Error(ErrorCode::NotHvm,
                        "domain " + std::to_string(domid) + " is not an HVM guest");
        throw Error(ErrorCode::InvalidState,
                    "domain " + std::to_string(domid) + " is not managed: " + seen->second.why);
    }
    if (guest->view.state == GuestState::Running || guest->view.state == GuestState::Paused) {
        done(std::nullopt);
        return;
    }
    startGuest(*guest, std::move(done));
}

void GuestManager::reload() {
    for (auto& [domid, guest] : registry_.guests()) {
        GuestState s = guest->view.state;
        bool retry = s == GuestState::Unmanaged || (s == GuestState::Failed && guest->configError);
        if (!retry || guest->view.flavour == Flavour::PvGrub)
            continue;
        loadSpec(*guest);
        if (guest->spec && !guest->configError)
            spawns_.enqueue(*guest);
    }
}

} // namespace stubdomd
