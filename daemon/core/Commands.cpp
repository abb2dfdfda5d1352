// What happens on request: Start, Stop, Restart, Attach, Reload, and the console log.
#include "core/Commands.hpp"

#include "core/GuestStates.hpp"
#include "core/Log.hpp"
#include "core/StubMemory.hpp"
#include "core/ToolErrors.hpp"
#include "core/XenPaths.hpp"

#include <algorithm>

namespace stubdomd {

Commands::Commands(const Settings& settings, const CoreDeps& deps, Registry& registry,
                   StubLinker& linker, Discovery& discovery, SpawnPipeline& spawns,
                   Teardown& teardown, DisplayControl& display, ConsoleFollower& consoles,
                   PauseControl& pauses, Waiters& waiters)
    : settings_(settings), deps_(deps), registry_(registry), linker_(linker), discovery_(discovery),
      spawns_(spawns), teardown_(teardown), display_(display), consoles_(consoles), pauses_(pauses),
      waiters_(waiters) {}

std::string Commands::consoleLog(const std::string& uuid) const {
    const auto view = registry_.find(uuid);
    if (!view || view->uuid != uuid)
        throw Error(ErrorCode::NoSuchGuest, "no guest with uuid " + uuid);
    if (!consoles_.logging())
        throw Error(ErrorCode::NotSupported, "stub consoles are not logged");
    return consoles_.logOf(view->name);
}

int Commands::followConsoleLog(const std::string& uuid) {
    const std::string log = consoleLog(uuid); // throws for an unknown guest, no logs
    const int fd = consoles_.openFollower(registry_.find(uuid)->name);
    if (fd < 0)
        throw Error(ErrorCode::Busy, "cannot follow " + log +
                                         " now (too many followers, or "
                                         "out of descriptors)");
    return fd;
}

void Commands::startGuest(Guest& guest, Completion done, const StartOptions* options) {
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
        waiters_.waitForStart(guest.view.domid, std::move(done));
        return;
    }
    // Stopped, Failed or Unmanaged: read the stub config again, so an edit applies.
    discovery_.loadSpec(guest);
    if (guest.configError)
        throw Error(guest.configErrorCode, guest.view.stateReason);
    if (!guest.spec)
        throw Error(ErrorCode::InvalidConfig, guest.view.stateReason);
    if (options)
        useStubMemory(registry_, settings_, guest, *options);
    guest.consecutiveRestarts = 0;
    waiters_.waitForStart(guest.view.domid, std::move(done));
    spawns_.enqueue(guest);
}

void Commands::start(const std::string& uuid, const StartOptions& options, Completion done) {
    Guest& guest = registry_.announced(uuid);
    if (guest.view.state == GuestState::Starting || guest.view.state == GuestState::Spawning ||
        guest.view.state == GuestState::Linking || guest.view.state == GuestState::Pending)
        throw Error(ErrorCode::InvalidState, "guest " + guest.view.name + " is already starting");
    startGuest(guest, std::move(done), &options);
}

void Commands::stopGuest(Guest& guest, Completion done) {
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
        waiters_.waitForStop(guest.view.domid, std::move(done));
        return;
    default:
        break;
    }
    waiters_.waitForStop(guest.view.domid, std::move(done));
    waiters_.started(guest.view.domid,
                     Error(ErrorCode::InvalidState,
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
    deps_.toolstack.destroy(stub,
                            [this, g, stub](const ToolResult& r) { stubDestroyed(g, stub, r); });
}

void Commands::stubDestroyed(DomId g, DomId stub, const ToolResult& r) {
    Guest* again = registry_.byDomid(g);
    if (!again)
        return;
    linker_.tearDown(g, again->view.uuid, Unlink::Links, fieldsOf(*again));
    if (!r.ok()) {
        std::string reason =
            "xl destroy " + std::to_string(stub) + " failed: " + toolErrors(r.errors);
        registry_.fail(*again, reason);
        waiters_.stopped(g, Error(ErrorCode::Internal, reason));
        return;
    }
    spawns_.forget(g);
    registry_.transition(*again, GuestState::Stopped, "stopped on request",
                         [&](GuestView& v) { teardown_.releaseStub(*again, v); });
    logInfo(fieldsOf(*again), "stub domain stopped");
    waiters_.stopped(g, std::nullopt);
    if (waiters_.takeStartAfterStop(g))
        spawns_.enqueue(*again);
}

// A paused guest keeps its stub domain: stopping it under the guest would leave a guest
// that cannot run when resumed, and a stopped guest stubdomd could no longer resume.
static void refuseWhilePaused(const GuestView& view, const char* what) {
    if (view.state == GuestState::Paused)
        throw Error(ErrorCode::InvalidState, "guest " + view.name +
                                                 " is paused; resume it before " + what +
                                                 " its stub domain");
}

void Commands::stop(const std::string& uuid, Completion done) {
    Guest& guest = registry_.announced(uuid);
    refuseWhilePaused(guest.view, "stopping");
    stopGuest(guest, std::move(done));
}

void Commands::restart(const std::string& uuid, const StartOptions& options, Completion done) {
    Guest& guest = registry_.announced(uuid);
    refuseWhilePaused(guest.view, "restarting");
    if (guest.view.state == GuestState::Stopped || guest.view.state == GuestState::Failed) {
        if (guest.view.stubDomid == 0) {
            startGuest(guest, std::move(done), &options);
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
    useStubMemory(registry_, settings_, guest,
                  options); // so is a stub-memory below the flavour's minimum
    // Stopping cancels the start waiters of the old stub domain; this one waits for
    // the new stub domain, so it joins after.
    // A queued guest stops at once, so the restart must be asked for before.
    waiters_.startAfterStop(guest.view.domid, true);
    try {
        stopGuest(guest, [](const std::optional<Error>&) {});
    } catch (...) {
        waiters_.startAfterStop(guest.view.domid, false);
        throw;
    }
    waiters_.waitForStart(guest.view.domid, std::move(done));
}

void Commands::attach(DomId domid, Completion done) {
    if (registry_.guestOfStub(domid))
        throw Error(ErrorCode::NotHvm, "domain " + std::to_string(domid) + " is a stub domain");
    if (!registry_.byDomid(domid))
        discovery_.rescan(); // stubdom-dm may be quicker than the @introduceDomain event
    Guest* guest = registry_.byDomid(domid);
    if (!guest) {
        const Registry::Seen* seen = registry_.seenOf(domid);
        if (!seen)
            throw Error(ErrorCode::NoSuchGuest, "no domain with domid " + std::to_string(domid));
        if (!seen->hvm)
            throw Error(ErrorCode::NotHvm,
                        "domain " + std::to_string(domid) + " is not an HVM guest");
        throw Error(ErrorCode::InvalidState,
                    "domain " + std::to_string(domid) + " is not managed: " + seen->why);
    }
    if (guest->view.state == GuestState::Running || guest->view.state == GuestState::Paused) {
        done(std::nullopt);
        return;
    }
    startGuest(*guest, std::move(done));
}

void Commands::reload() {
    registry_.forEach([this](Guest& guest) {
        if (guest.stubMemoryOverrideMiB) { // Start's stub-memory ends here: the config rules
            guest.stubMemoryOverrideMiB.reset();
            showStubMemory(registry_, settings_, guest);
        }
        GuestState s = guest.view.state;
        bool retry = s == GuestState::Unmanaged || (s == GuestState::Failed && guest.configError);
        if (!retry || guest.view.flavour == Flavour::PvGrub)
            return;
        discovery_.loadSpec(guest);
        if (guest.spec && !guest.configError)
            spawns_.enqueue(guest);
    });
}

} // namespace stubdomd
