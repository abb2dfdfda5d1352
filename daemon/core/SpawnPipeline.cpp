// The spawn pipeline: queue, memory check, xl create -p, link, unpause, wait
// for running; and the clean-up of attempts that were overtaken by events.
#include "core/SpawnPipeline.hpp"

#include "core/ConsoleTail.hpp"
#include "core/Log.hpp"
#include "core/StubConfigWriter.hpp"
#include "core/StubFlavour.hpp"
#include "core/StubMemory.hpp"
#include "core/ToolErrors.hpp"
#include "core/XenPaths.hpp"

#include <algorithm>

namespace stubdomd {

namespace {

// The last few lines of a command's output, on one line (xl domid answers on its last).
std::string lastLines(const std::string& text, std::size_t maxLines) {
    std::string trimmed = text;
    while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' '))
        trimmed.pop_back();
    std::size_t pos = trimmed.size();
    for (std::size_t n = 0; n < maxLines && pos != std::string::npos; ++n)
        pos = pos == 0 ? std::string::npos : trimmed.rfind('\n', pos - 1);
    std::string tail = pos == std::string::npos ? trimmed : trimmed.substr(pos + 1);
    std::replace(tail.begin(), tail.end(), '\n', ' ');
    return tail.empty() ? "(no message)" : tail;
}

// "30 s", "2.5 s"
std::string seconds(std::chrono::milliseconds ms) {
    auto whole = ms.count() / 1000;
    auto tenths = (ms.count() % 1000) / 100;
    return std::to_string(whole) + (tenths ? "." + std::to_string(tenths) : "") + " s";
}

} // namespace

SpawnPipeline::SpawnPipeline(const Settings& settings, const CoreDeps& deps, DomainProbe& probe,
                             StubLinker& linker, Registry& registry, DisplayControl& display,
                             DeviceModelChannel& channel, ConsoleFollower& consoles,
                             Waiters& waiters, Hooks hooks)
    : settings_(settings), deps_(deps), probe_(probe), linker_(linker), registry_(registry),
      display_(display), channel_(channel), consoles_(consoles), waiters_(waiters),
      hooks_(std::move(hooks)), slots_(settings.maxParallelSpawns) {}

// Late callbacks still hold their attempts: cancelled, they touch nothing of ours.
SpawnPipeline::~SpawnPipeline() {
    for (auto& [domid, watching] : watching_)
        if (watching.startTimer)
            deps_.timers.cancel(watching.startTimer);
    for (auto& [domid, attempt] : attempts_)
        attempt->cancelled = true;
}

void SpawnPipeline::enqueue(Guest& guest) {
    registry_.transition(guest, GuestState::Pending, "waiting for a spawn slot");
    slots_.enqueue(guest.view.domid);
    pump();
}

void SpawnPipeline::setGate(SpawnGate& gate) {
    slots_.setGate(gate, [this] { pump(); });
}

void SpawnPipeline::pump() {
    if (std::string why = slots_.closedBecause(); !why.empty()) {
        holdQueue(why);
        return;
    }
    while (auto domid = slots_.next()) {
        Guest* guest = registry_.byDomid(*domid);
        if (guest && guest->view.state == GuestState::Pending)
            beginSpawn(*guest);
    }
}

// The gate is closed: the queue keeps its order, and each waiting guest says why.
void SpawnPipeline::holdQueue(const std::string& why) {
    for (DomId domid : slots_.waiting()) {
        Guest* guest = registry_.byDomid(domid);
        if (guest && guest->view.state == GuestState::Pending)
            registry_.transition(*guest, GuestState::Pending, why);
    }
}

void SpawnPipeline::beginSpawn(Guest& guest) {
    slots_.take();
    auto attempt = std::make_shared<Attempt>();
    attempt->guest = guest.view.domid;
    attempt->stubName = guest.view.name + "-dm";
    attempts_[guest.view.domid] = attempt;
    registry_.transition(guest, GuestState::Spawning, "");

    const StubSpec spec = specToSpawn(guest);
    // libxl refuses a stub whose images it cannot read before it makes any domain.
    if (std::string missing = missingStubImage(spec); !missing.empty()) {
        failSpawn(guest, ErrorCode::InvalidConfig, missing);
        return;
    }
    if (spec.flavour == Flavour::Linux)
        attempt->videoRamMiB = guestVideoRamMiB(guest);
    std::uint64_t needKiB = stubMemoryMiB(spec, settings_, attempt->videoRamMiB) * 1024;
    std::uint64_t freeKiB = 0;
    try {
        freeKiB = deps_.hypervisor.freeMemoryKiB();
    } catch (const Error& e) {
        failSpawn(guest, ErrorCode::SpawnFailed,
                  std::string("cannot read free memory: ") + e.what());
        return;
    }
    if (!slots_.reserve(needKiB, freeKiB)) {
        failSpawn(guest, ErrorCode::SpawnFailed,
                  "not enough free memory for " + attempt->stubName + ": it needs " +
                      std::to_string(needKiB / 1024) + " MiB, " + std::to_string(freeKiB / 1024) +
                      " MiB are free and " + std::to_string(slots_.reservedKiB() / 1024) +
                      " MiB are reserved for stub domains being created; if dom0 balloons, "
                      "give it a fixed dom0_mem=");
        return;
    }
    attempt->reservedKiB = needKiB;
    registry_.mutate(guest, [needKiB](GuestView& v) { v.stubMemoryMiB = needKiB / 1024; });

    GuestIdentity identity{guest.view.domid, guest.view.name, guest.view.uuid};
    std::string configPath = settings_.runtimeDir + "/" + attempt->stubName + ".cfg";
    try {
        deps_.writeFile(configPath,
                        writeStubConfig(identity,
                                        guest.display ? withDisplay(spec, *guest.display) : spec,
                                        settings_, attempt->videoRamMiB));
    } catch (const Error& e) {
        failSpawn(guest, ErrorCode::SpawnFailed, e.what());
        return;
    }
    if (std::string caveat = slots_.caveat(); !caveat.empty())
        logWarning(fieldsOf(guest), caveat);
    logInfo(fieldsOf(guest), "creating " + attempt->stubName + " from " + configPath);
    createStub(attempt, configPath);
}

// Counted until `xl domid` names the new stub domain: discovery holds back its probe of a
// PV domain that appears meanwhile (discoverPv), which would otherwise spend four reads
// on our own new stub domain as a possible PV-GRUB guest.
void SpawnPipeline::createStub(const std::shared_ptr<Attempt>& attempt,
                               const std::string& configPath) {
    ++stubsBeingCreated_;
    deps_.toolstack.create(configPath, true,
                           [this, attempt](const ToolResult& r) { onCreated(attempt, r); });
}

void SpawnPipeline::stubCreationEnded() {
    if (--stubsBeingCreated_ == 0 && pvProbeDeferred_) {
        pvProbeDeferred_ = false;
        hooks_.rescanSoon(); // the PV domains held back are probed now
    }
}

bool SpawnPipeline::deferPvProbe() {
    if (stubsBeingCreated_ == 0)
        return false;
    pvProbeDeferred_ = true;
    return true;
}

void SpawnPipeline::onCreated(const std::shared_ptr<Attempt>& attempt, const ToolResult& result) {
    slots_.giveBack(attempt->reservedKiB);
    Guest* guest = current(attempt);
    if (!result.ok() || !guest)
        stubCreationEnded(); // else once `xl domid` has answered
    if (!guest) {
        if (result.ok())
            destroyOrphanNamed(attempt->stubName);
        overtaken(attempt);
        return;
    }
    if (!result.ok()) {
        // A domain of that name left by an interrupted run: remove it once and retry.
        if (!attempt->retriedNameClash &&
            result.errors.find("already exists") != std::string::npos) {
            attempt->retriedNameClash = true;
            logWarning(fieldsOf(*guest),
                       attempt->stubName + " already exists; destroying it and retrying");
            deps_.toolstack.domid(attempt->stubName, [this, attempt](const ToolResult& r) {
                auto stale = r.ok() ? parseDomid(lastLines(r.output, 1)) : std::nullopt;
                auto retry = [this, attempt](const ToolResult&) {
                    if (!current(attempt)) {
                        endAttempt(attempt);
                        return;
                    }
                    createStub(attempt, settings_.runtimeDir + "/" + attempt->stubName + ".cfg");
                };
                bool linkedElsewhere = stale && registry_.guestOfStub(*stale);
                if (stale && !linkedElsewhere)
                    destroyStub(*stale, retry);
                else
                    retry(ToolResult{});
            });
            return;
        }
        failSpawn(*guest, ErrorCode::SpawnFailed, "xl create failed: " + toolErrors(result.errors));
        return;
    }
    deps_.toolstack.domid(attempt->stubName, [this, attempt](const ToolResult& r) {
        stubCreationEnded();
        onStubDomid(attempt, r);
    });
}

void SpawnPipeline::onStubDomid(const std::shared_ptr<Attempt>& attempt, const ToolResult& result) {
    auto stub = result.ok() ? parseDomid(lastLines(result.output, 1)) : std::nullopt;
    Guest* guest = current(attempt);
    if (!guest) {
        if (stub)
            destroyStub(*stub);
        overtaken(attempt);
        return;
    }
    if (!stub) {
        failSpawn(*guest, ErrorCode::SpawnFailed,
                  "cannot find " + attempt->stubName +
                      " after xl create: " + toolErrors(result.errors));
        destroyOrphanNamed(attempt->stubName);
        return;
    }
    attempt->stub = stub;
    linkAndUnpause(*guest, *stub);
}

void SpawnPipeline::linkAndUnpause(Guest& guest, DomId stub) {
    DomId g = guest.view.domid;
    registry_.linkStub(stub, g);
    registry_.transition(guest, GuestState::Linking, "", [&](GuestView& v) { v.stubDomid = stub; });
    try {
        linker_.link(linkRequest(guest, stub));
        display_.show(guest, stub, true);
        // libxl starts the QMP proxy of a Linux stub domain before unpausing it.
        openMonitor(guest, stub);
    } catch (const Error& e) {
        failSpawn(guest, ErrorCode::SpawnFailed,
                  std::string("linking the stub domain: ") + e.what());
        return;
    }
    registry_.transition(guest, GuestState::Starting, "");
    followConsole(guest, stub); // before unpause: the log starts with the stub's first line
    Watching& watching = watching_[g];
    watching.stub = stub;
    // The guest is looked up again on each event: it may be gone by then.
    const auto check = [this, g](const std::string& changed) {
        if (Guest* again = registry_.byDomid(g))
            checkRunning(*again, changed);
    };
    watching.watches.push_back(
        deps_.store.watch(paths::stubDeviceModel(stub, g) + "/state", check));
    watching.watches.push_back(deps_.store.watch(paths::legacyDeviceModel(g) + "/state", check));
    auto attempt = attemptOf(g);
    watching.startTimer = deps_.timers.after(settings_.startTimeout, [this, attempt] {
        Guest* again = current(attempt);
        if (!again)
            return;
        watching_[attempt->guest].startTimer = 0;
        failSpawn(*again, ErrorCode::TimedOut,
                  attempt->stubName + " did not reach running within " +
                      seconds(settings_.startTimeout));
    });
    deps_.toolstack.unpause(stub, [this, attempt](const ToolResult& r) {
        Guest* again = current(attempt);
        if (!again || r.ok())
            return;
        failSpawn(*again, ErrorCode::SpawnFailed, "xl unpause failed: " + toolErrors(r.errors));
    });
}

void SpawnPipeline::checkRunning(Guest& guest, const std::string& changed) {
    auto watching = watching_.find(guest.view.domid);
    if (guest.view.state != GuestState::Starting || watching == watching_.end() ||
        !watching->second.stub)
        return;
    if (auto where = deviceModelRunning(guest, watching->second.stub, changed))
        becameRunning(guest, *where);
}

// The device model's own word, at the stub domain's path or the legacy one. Only the stub
// domain (which owns what it creates) or dom0 may say it: the guest can write the legacy
// directory too (libxl lets it, so the stub can write there through its target), and a
// `running` of its own would let it pass for its stub domain. `changed`, the path a watch
// event named, is the only one read when it is one of the two: each event (the two
// registrations among them) then costs one path's requests, not both's.
std::optional<std::string> SpawnPipeline::deviceModelRunning(Guest& guest, DomId stub,
                                                             const std::string& changed) {
    const std::string own = paths::stubDeviceModel(stub, guest.view.domid) + "/state";
    const std::string legacy = paths::legacyDeviceModel(guest.view.domid) + "/state";
    const bool onlyChanged = changed == own || changed == legacy;
    for (const std::string& path : {own, legacy}) {
        if (onlyChanged && path != changed)
            continue;
        auto state = probe_.readOwnedByStub(path, stub);
        if (auto* refusal = std::get_if<ProbeRefusal>(&state)) {
            if (guest.lastIgnored != refusal->reason)
                logWarning(fieldsOf(guest), refusal->reason);
            guest.lastIgnored = refusal->reason;
            continue;
        }
        const auto& value = std::get<std::optional<std::string>>(state);
        if (value && *value == "running")
            return path;
    }
    return std::nullopt;
}

void SpawnPipeline::becameRunning(Guest& guest, const std::string& where) {
    stopWatching(guest);
    // The toolstack's own wait (xl running stubdom-dm as the device model) watches
    // the legacy path; answer it when the device model said it at its own path.
    const std::string legacy = paths::legacyDeviceModel(guest.view.domid) + "/state";
    try {
        if (where != legacy)
            deps_.store.write(legacy, "running");
    } catch (const Error& e) {
        logWarning(fieldsOf(guest), std::string("writing ") + legacy + ": " + e.what());
    }
    guest.runningSince = deps_.timers.now();
    registry_.transition(guest, GuestState::Running, "");
    logInfo(fieldsOf(guest), "stub domain is running");
    display_.handPasswordToMonitor(guest);
    endAttempt(attemptOf(guest.view.domid));
    waiters_.started(guest.view.domid, std::nullopt);
}

void SpawnPipeline::stopWatching(Guest& guest) {
    auto found = watching_.find(guest.view.domid);
    if (found == watching_.end())
        return;
    const Watching watching = std::move(found->second);
    watching_.erase(found);
    if (watching.startTimer)
        deps_.timers.cancel(watching.startTimer);
    try {
        for (Store::WatchId watch : watching.watches)
            deps_.store.unwatch(watch);
    } catch (const Error& e) {
        logWarning(fieldsOf(guest), std::string("removing watches: ") + e.what());
    }
}

bool SpawnPipeline::cancel(Guest& guest) {
    stopWatching(guest);
    slots_.remove(guest.view.domid);
    auto attempt = attemptOf(guest.view.domid);
    if (!attempt)
        return false;
    attempt->cancelled = true;
    // Until its stub domain is known, an xl callback of the attempt is pending: it
    // destroys what xl made and frees the slot. Once the stub is known, nothing of xl
    // holds the slot any more (the start timer just went), so it is freed here.
    if (attempt->stub)
        endAttempt(attempt);
    return attempt->active && !attempt->stub;
}

void SpawnPipeline::failSpawn(Guest& guest, ErrorCode code, const std::string& why) {
    // What the stub printed last says why it stopped (its init, QEMU): quoted in the
    // reason, read before the stub is destroyed and its log closed.
    std::string reason = why;
    if (consoles_.logging() && guest.view.state == GuestState::Starting) {
        auto tail = consoleTail(consoles_.logOf(guest.view.name), guest.consoleLogFrom);
        if (!tail.empty())
            reason += "; its console ended with: " + tail;
    }
    logError(fieldsOf(guest), reason);
    stopWatching(guest);
    DomId stub = guest.view.stubDomid;
    if (stub) {
        destroyStub(stub);
        linker_.tearDown(guest.view.domid, guest.view.uuid, Unlink::Links, fieldsOf(guest));
    }
    registry_.fail(guest, reason, reason, [&](GuestView& v) { hooks_.releaseStub(guest, v); });
    if (auto attempt = attemptOf(guest.view.domid)) {
        attempt->cancelled = true; // late callbacks of this attempt only clean up
        endAttempt(attempt);
    }
    waiters_.started(guest.view.domid, Error(code, reason));
}

// The log is appended to across stubs (and across runs of the daemon, for an adopted
// stub): a failure quotes only what this stub printed from now on.
void SpawnPipeline::followConsole(Guest& guest, DomId stub) {
    if (auto log = consoles_.follow(guest.view.name, stub))
        guest.consoleLogFrom = fileSize(*log);
}

// The guest the attempt still works for: nullptr once it was cancelled (Stop, a failure),
// its guest went, or a newer attempt replaced it. Every late callback of xl or a timer
// asks this first: an overtaken attempt only cleans up after itself.
SpawnPipeline::Guest* SpawnPipeline::current(const std::shared_ptr<Attempt>& attempt) {
    Guest* guest = registry_.byDomid(attempt->guest);
    if (attempt->cancelled || !guest || attemptOf(attempt->guest) != attempt)
        return nullptr;
    return guest;
}

std::shared_ptr<SpawnAttempt> SpawnPipeline::attemptOf(DomId guest) const {
    auto it = attempts_.find(guest);
    return it == attempts_.end() ? nullptr : it->second;
}

// The clean-up of an overtaken attempt once xl has answered: its slot goes back, and a
// guest whose Stop waited for this answer is stopped.
void SpawnPipeline::overtaken(const std::shared_ptr<Attempt>& attempt) {
    endAttempt(attempt);
    Guest* guest = registry_.byDomid(attempt->guest);
    if (guest && attemptOf(attempt->guest) == attempt)
        abortAttempt(*guest);
}

// Frees the attempt's spawn slot exactly once and lets the queue move.
void SpawnPipeline::endAttempt(const std::shared_ptr<Attempt>& attempt) {
    if (!attempt || !attempt->active)
        return;
    attempt->active = false;
    slots_.giveBack(attempt->reservedKiB);
    slots_.release();
    pump();
}

// The attempt was cancelled by Stop while xl was still working: now that its
// callback has cleaned up, the guest is stopped.
void SpawnPipeline::abortAttempt(Guest& guest) {
    forget(guest.view.domid);
    if (guest.view.state != GuestState::Stopping)
        return;
    registry_.transition(guest, GuestState::Stopped, "stopped on request",
                         [&](GuestView& v) { hooks_.releaseStub(guest, v); });
    waiters_.stopped(guest.view.domid, std::nullopt);
    if (waiters_.takeStartAfterStop(guest.view.domid))
        enqueue(guest);
}

void SpawnPipeline::destroyStub(DomId stub, std::function<void(const ToolResult&)> then) {
    logInfo({"", std::nullopt, stub, ""}, "destroying stub domain");
    consoles_.stop(stub);
    deps_.toolstack.destroy(stub, [stub, then = std::move(then)](const ToolResult& r) {
        if (!r.ok())
            logWarning({"", std::nullopt, stub, ""}, "xl destroy failed: " + toolErrors(r.errors));
        if (then)
            then(r);
    });
}

void SpawnPipeline::destroyHoldingQueue(DomId stub) {
    slots_.take();
    destroyStub(stub, [this](const ToolResult&) {
        slots_.release();
        pump();
    });
}

void SpawnPipeline::respawnAfter(Guest& guest, DomId oldStub) {
    DomId g = guest.view.domid;
    slots_.take();
    deps_.toolstack.destroy(oldStub, [this, g](const ToolResult&) {
        slots_.release();
        if (Guest* again = registry_.byDomid(g); again && again->view.state == GuestState::Pending)
            enqueue(*again);
        else
            pump();
    });
}

// Throws Error(SpawnFailed) when the proxy cannot be started: as for libxl, a Linux
// stub domain without its QMP channel is a failed spawn.
void SpawnPipeline::openMonitor(Guest& guest, DomId stub) {
    if (!channel_.serves(guest.view.flavour))
        return;
    channel_.open(guest.view.name, guest.view.domid, stub);
    // Decided as linkRequest decided it; for an adopted stub domain, from the password
    // stored now, which is what its start was given unless it changed since.
    channel_.setPasswordAuth(guest.view.domid, display_.startsWithVncPassword(guest));
}

void SpawnPipeline::destroyOrphanNamed(const std::string& name) {
    deps_.toolstack.domid(name, [this, name](const ToolResult& r) {
        auto stub = r.ok() ? parseDomid(lastLines(r.output, 1)) : std::nullopt;
        if (stub && !registry_.guestOfStub(*stub)) {
            logWarning({"", std::nullopt, *stub, ""},
                       "destroying " + name + ": its guest no longer wants it");
            destroyStub(*stub);
        }
    });
}

} // namespace stubdomd
