// Teardown (DESIGN.md section 4): what happens when a guest or a stub domain goes. A gone
// guest's attempt is cancelled and what it left unlinked; a stub domain that vanished is
// judged after a grace (it may be the first half of its guest's destruction) and, if it
// died on its own, its death is explained and on_stubdom_death applied.
#include "core/Teardown.hpp"

#include "core/ConsoleTail.hpp"
#include "core/GuestStates.hpp"
#include "core/Log.hpp"
#include "core/StubDeath.hpp"

namespace stubdomd {

namespace {

// How long a dead stub domain's guest has to go away too before the stub's death is
// taken as a crash (see stubGone).
constexpr auto kStubDeathGrace = std::chrono::milliseconds(1000);
// How long to keep waiting while that guest stays paused (as libxl leaves a guest it is
// destroying) before the stub's death is taken as a crash after all.
constexpr auto kStubDeathPatience = std::chrono::seconds(30);

// A stub domain that ran this long before dying counts as a fresh failure for the
// `restart` policy's limit, not as one more in a crash loop.
constexpr auto kRestartForgiveness = std::chrono::seconds(60);

} // namespace

Teardown::Teardown(const Settings& settings, Timers& timers, Hypervisor& hypervisor,
                   Registry& registry, SpawnPipeline& pipeline, StubLinker& linker,
                   DisplayControl& display, DeviceModelChannel& channel, ConsoleFollower& consoles,
                   PauseControl& pauses, Waiters& waiters, Hooks hooks)
    : settings_(settings), timers_(timers), hypervisor_(hypervisor), registry_(registry),
      pipeline_(pipeline), linker_(linker), display_(display), channel_(channel),
      consoles_(consoles), pauses_(pauses), waiters_(waiters), hooks_(std::move(hooks)) {}

void Teardown::guestGone(DomId guestDomid) {
    Guest* found = registry_.byDomid(guestDomid);
    if (!found)
        return;
    Guest& guest = *found;
    logInfo(fieldsOf(guest), "guest is gone; tearing down its stub domain");
    pipeline_.cancel(guest);
    // The toolstack destroys a guest's stub domain itself (libxl follows
    // image/device-model-domid); only one that is still there needs destroying.
    if (guest.view.stubDomid && registry_.isListed(guest.view.stubDomid))
        pipeline_.destroyStub(guest.view.stubDomid);
    if (guest.view.flavour != Flavour::PvGrub) // never linked: nothing of ours to clean
        linker_.tearDown(guestDomid, guest.view.uuid, Unlink::GuestGone, fieldsOf(guest));
    channel_.close(guestDomid, fieldsOf(guest));
    display_.dropGone(guestDomid);
    pauses_.forget(guest.view.uuid);
    waiters_.started(guestDomid,
                     Error(ErrorCode::NoSuchGuest, "guest " + guest.view.name + " is gone"));
    waiters_.stopped(guestDomid, std::nullopt);
    waiters_.forget(guestDomid);
    deathsWhilePaused_.erase(guestDomid);
    pipeline_.forget(guestDomid);
    registry_.remove(guestDomid);
}

void Teardown::resumed(Guest& guest) {
    auto found = deathsWhilePaused_.find(guest.view.domid);
    if (found == deathsWhilePaused_.end())
        return;
    const auto [stub, what] = std::move(found->second);
    deathsWhilePaused_.erase(found);
    applyStubDeathPolicy(guest, stub, what);
}

void Teardown::stubGone(DomId stubDomid, bool stillListed, std::optional<unsigned> shutdownReason) {
    const auto served = registry_.guestOfStub(stubDomid);
    if (!served)
        return;
    const DomId guestDomid = *served;
    if (!stillListed)
        registry_.forgetStub(stubDomid);
    Guest* guest = registry_.byDomid(guestDomid);
    if (guest && guest->view.stubDomid == stubDomid && guest->view.state != GuestState::Stopping) {
        // The toolstack destroys a guest's stub domain before the guest itself (libxl
        // does), so a stub that vanishes may only be the first half of the guest's
        // destruction. Judge it once the grace is over, on a fresh domain list.
        judgeStubDeath(guestDomid, stubDomid, timers_.now(), shutdownReason);
    } else if (stillListed && (!guest || guest->view.stubDomid != stubDomid)) {
        pipeline_.destroyStub(stubDomid);
    }
}

// A stub domain that vanished may be the first half of its guest's destruction: libxl
// pauses the guest, destroys the stub, then the guest, which can take seconds on a
// busy host. Judge after a grace, on a fresh domain list, and keep waiting (within a
// bound) while the guest stays paused.
void Teardown::judgeStubDeath(DomId guestDomid, DomId stubDomid, Clock::time_point since,
                              std::optional<unsigned> shutdownReason) {
    timers_.after(kStubDeathGrace, [this, guestDomid, stubDomid, since, shutdownReason] {
        hooks_.rescanNow();
        Guest* guest = registry_.byDomid(guestDomid);
        if (!guest || guest->view.stubDomid != stubDomid ||
            guest->view.state == GuestState::Stopping)
            return;
        // A guest stubdomd paused is no guest being destroyed; stubDied keeps the policy
        // until it is resumed.
        if (guest->paused && guest->view.state != GuestState::Paused &&
            timers_.now() - since < kStubDeathPatience) {
            judgeStubDeath(guestDomid, stubDomid, since, shutdownReason);
            return;
        }
        stubDied(*guest, stubDomid, shutdownReason);
    });
}

// ---------------------------------------------------------------------------
// A stub domain died on its own

// The guest keeps running (or is being crashed) without a device model: failed, with
// why, and the death itself as the last error.
void Teardown::failAfterStubDeath(Guest& guest, const std::string& death,
                                  const std::string& reason) {
    registry_.fail(guest, reason, death);
    logError(fieldsOf(guest), reason);
}

void Teardown::stubDied(Guest& guest, DomId stub, std::optional<unsigned> shutdownReason) {
    bool wasRunning = guest.view.state == GuestState::Running;
    bool wasPaused = guest.view.state == GuestState::Paused;
    // Why, read before the stub is destroyed: the hypervisor's reason, and its console's
    // last lines (the log file outlives the copying).
    const std::string tail =
        consoles_.logging() ? consoleTail(consoles_.logOf(guest.view.name), guest.consoleLogFrom)
                            : "";
    const StubDeath death = explainStubDeath(shutdownReason, tail);
    pipeline_.stopWatching(guest);
    pipeline_.destroyStub(stub); // a crashed domain lingers until destroyed
    linker_.tearDown(guest.view.domid, guest.view.uuid, Unlink::Links, fieldsOf(guest));
    const std::string stubName = guest.view.name + "-dm (domid " + std::to_string(stub) + ")";
    const std::string died = stubName + " died: " + death.summary;
    std::string what = died;
    if (!tail.empty())
        what += "; its console ended with: " + tail;
    if (wasPaused) {
        deathsWhilePaused_[guest.view.domid] = std::make_pair(stub, what);
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
        pipeline_.failSpawn(guest, ErrorCode::SpawnFailed,
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
void Teardown::applyStubDeathPolicy(Guest& guest, DomId stub, const std::string& what) {
    switch (settings_.onStubdomDeath) {
    case StubDeathPolicy::CrashGuest: {
        failAfterStubDeath(guest, what,
                           what + "; the guest was crashed (on_stubdom_death = crash-guest)");
        try {
            hypervisor_.crash(guest.view.domid);
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
        if (timers_.now() - guest.runningSince > kRestartForgiveness)
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
        pipeline_.respawnAfter(guest, stub);
        return;
    }
    }
}

// ---------------------------------------------------------------------------
// The teardown step of a stub

void Teardown::releaseStub(Guest& guest, GuestView& view) {
    display_.forget(guest, view); // where to connect exists only with a stub domain
    channel_.close(guest.view.domid, fieldsOf(guest)); // its QMP proxy goes with it
    view.stubDomid = 0;
    view.stubMemoryUsedKiB = 0; // what was sampled of it
    view.stubCpuTimeNs = 0;
}

} // namespace stubdomd
