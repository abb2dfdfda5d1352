// The spawn pipeline: queue, memory check, xl create -p, link, unpause, wait
// for running; and the clean-up of attempts that were overtaken by events.
#include "core/GuestManager.hpp"

#include "core/ConsoleTail.hpp"
#include "core/Log.hpp"
#include "core/StubConfigWriter.hpp"
#include "core/StubFlavour.hpp"
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

// ---------------------------------------------------------------------------
// The spawn pipeline

void GuestManager::enqueue(Guest& guest) {
    registry_.transition(guest, GuestState::Pending, "waiting for a spawn slot");
    slots_.enqueue(guest.view.domid);
    pump();
}

void GuestManager::setSpawnGate(SpawnGate& gate) {
    slots_.setGate(gate, [this] { pump(); });
}

void GuestManager::pump() {
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
void GuestManager::holdQueue(const std::string& why) {
    for (DomId domid : slots_.waiting()) {
        Guest* guest = registry_.byDomid(domid);
        if (guest && guest->view.state == GuestState::Pending)
            registry_.transition(*guest, GuestState::Pending, why);
    }
}

void GuestManager::beginSpawn(Guest& guest) {
    slots_.take();
    auto attempt = std::make_shared<Attempt>();
    attempt->guest = guest.view.domid;
    attempt->stubName = guest.view.name + "-dm";
    guest.attempt = attempt;
    registry_.transition(guest, GuestState::Spawning, "");

    const StubSpec& spec = *guest.spec;
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
void GuestManager::createStub(const std::shared_ptr<Attempt>& attempt,
                              const std::string& configPath) {
    ++stubsBeingCreated_;
    deps_.toolstack.create(configPath, true,
                           [this, attempt](const ToolResult& r) { onCreated(attempt, r); });
}

void GuestManager::stubCreationEnded() {
    if (--stubsBeingCreated_ == 0 && pvProbeDeferred_) {
        pvProbeDeferred_ = false;
        scheduleRescan(); // the PV domains held back are probed now
    }
}

void GuestManager::onCreated(const std::shared_ptr<Attempt>& attempt, const ToolResult& result) {
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
                bool linkedElsewhere = stale && registry_.stubLinks().count(*stale);
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

void GuestManager::onStubDomid(const std::shared_ptr<Attempt>& attempt, const ToolResult& result) {
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

void GuestManager::linkAndUnpause(Guest& guest, DomId stub) {
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
    guest.watchedStub = stub;
    // The guest is looked up again on each event: it may be gone by then.
    const auto check = [this, g](const std::string& changed) {
        if (Guest* again = registry_.byDomid(g))
            checkRunning(*again, changed);
    };
    guest.deviceModelWatches.push_back(
        deps_.store.watch(paths::stubDeviceModel(stub, g) + "/state", check));
    guest.deviceModelWatches.push_back(
        deps_.store.watch(paths::legacyDeviceModel(g) + "/state", check));
    auto attempt = guest.attempt;
    guest.startTimer = deps_.timers.after(settings_.startTimeout, [this, attempt] {
        Guest* again = current(attempt);
        if (!again)
            return;
        again->startTimer = 0;
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

void GuestManager::checkRunning(Guest& guest, const std::string& changed) {
    if (guest.view.state != GuestState::Starting || !guest.watchedStub)
        return;
    if (auto where = deviceModelRunning(guest, guest.watchedStub, changed))
        becameRunning(guest, *where);
}

// The device model's own word, at the stub domain's path or the legacy one. Only the stub
// domain (which owns what it creates) or dom0 may say it: the guest can write the legacy
// directory too (libxl lets it, so the stub can write there through its target), and a
// `running` of its own would let it pass for its stub domain. `changed`, the path a watch
// event named, is the only one read when it is one of the two: each event (the two
// registrations among them) then costs one path's requests, not both's.
std::optional<std::string> GuestManager::deviceModelRunning(Guest& guest, DomId stub,
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

void GuestManager::becameRunning(Guest& guest, const std::string& where) {
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
    auto attempt = guest.attempt;
    endAttempt(attempt);
    completeStart(guest, std::nullopt);
}

void GuestManager::stopWatching(Guest& guest) {
    if (guest.startTimer) {
        deps_.timers.cancel(guest.startTimer);
        guest.startTimer = 0;
    }
    if (!guest.watchedStub)
        return;
    const auto watches = std::move(guest.deviceModelWatches);
    guest.deviceModelWatches.clear();
    try {
        for (Store::WatchId watch : watches)
            deps_.store.unwatch(watch);
    } catch (const Error& e) {
        logWarning(fieldsOf(guest), std::string("removing watches: ") + e.what());
    }
    guest.watchedStub = 0;
}

void GuestManager::failSpawn(Guest& guest, ErrorCode code, const std::string& why) {
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
        unlinkStub(guest);
    }
    registry_.fail(guest, reason, reason, [&](GuestView& v) { releaseStub(guest, v); });
    if (guest.attempt) {
        auto attempt = guest.attempt;
        attempt->cancelled = true; // late callbacks of this attempt only clean up
        endAttempt(attempt);
    }
    completeStart(guest, Error(code, reason));
}

// The log is appended to across stubs (and across runs of the daemon, for an adopted
// stub): a failure quotes only what this stub printed from now on.
void GuestManager::followConsole(Guest& guest, DomId stub) {
    if (auto log = consoles_.follow(guest.view.name, stub))
        guest.consoleLogFrom = fileSize(*log);
}

// The guest the attempt still works for: nullptr once it was cancelled (Stop, a failure),
// its guest went, or a newer attempt replaced it. Every late callback of xl or a timer
// asks this first: an overtaken attempt only cleans up after itself.
GuestManager::Guest* GuestManager::current(const std::shared_ptr<Attempt>& attempt) {
    Guest* guest = registry_.byDomid(attempt->guest);
    if (attempt->cancelled || !guest || guest->attempt != attempt)
        return nullptr;
    return guest;
}

// The clean-up of an overtaken attempt once xl has answered: its slot goes back, and a
// guest whose Stop waited for this answer is stopped.
void GuestManager::overtaken(const std::shared_ptr<Attempt>& attempt) {
    endAttempt(attempt);
    Guest* guest = registry_.byDomid(attempt->guest);
    if (guest && guest->attempt == attempt)
        abortAttempt(*guest);
}

// Frees the attempt's spawn slot exactly once and lets the queue move.
void GuestManager::endAttempt(const std::shared_ptr<Attempt>& attempt) {
    if (!attempt || !attempt->active)
        return;
    attempt->active = false;
    slots_.giveBack(attempt->reservedKiB);
    slots_.release();
    pump();
}

// The attempt was cancelled by Stop while xl was still working: now that its
// callback has cleaned up, the guest is stopped.
void GuestManager::abortAttempt(Guest& guest) {
    guest.attempt.reset();
    if (guest.view.state != GuestState::Stopping)
        return;
    registry_.transition(guest, GuestState::Stopped, "stopped on request",
                         [&](GuestView& v) { releaseStub(guest, v); });
    completeStop(guest, std::nullopt);
    if (guest.startAfterStop) {
        guest.startAfterStop = false;
        enqueue(guest);
    }
}

void GuestManager::destroyStub(DomId stub, std::function<void(const ToolResult&)> then) {
    logInfo({"", std::nullopt, stub, ""}, "destroying stub domain");
    consoles_.stop(stub);
    deps_.toolstack.destroy(stub, [stub, then = std::move(then)](const ToolResult& r) {
        if (!r.ok())
            logWarning({"", std::nullopt, stub, ""}, "xl destroy failed: " + toolErrors(r.errors));
        if (then)
            then(r);
    });
}

// The teardown's xenstore step: the links between the guest and its stub domain go. The
// stub is gone or going whatever xenstore says, so a failure is only a warning.
void GuestManager::unlinkStub(Guest& guest, bool guestGone) {
    try {
        if (guestGone)
            linker_.unlinkGone(guest.view.domid);
        else
            linker_.unlink(guest.view.domid, guest.view.uuid);
    } catch (const Error& e) {
        logWarning(fieldsOf(guest), std::string("cleaning xenstore: ") + e.what());
    }
}

void GuestManager::destroyOrphanNamed(const std::string& name) {
    deps_.toolstack.domid(name, [this, name](const ToolResult& r) {
        auto stub = r.ok() ? parseDomid(lastLines(r.output, 1)) : std::nullopt;
        if (stub && !registry_.stubLinks().count(*stub)) {
            logWarning({"", std::nullopt, *stub, ""},
                       "destroying " + name + ": its guest no longer wants it");
            destroyStub(*stub);
        }
    });
}

} // namespace stubdomd
