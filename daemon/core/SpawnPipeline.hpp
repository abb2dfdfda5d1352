// The spawn pipeline (DESIGN.md section 4): a guest waits for a spawn slot, its stub
// images and memory are checked, `xl create -p` makes its stub domain, the stub is linked
// and unpaused, and the guest runs once the device model says so. A component with its
// own state: the spawn slots, each guest's attempt (by guest domid) and, while a stub
// starts, its start timer and the watches on its device-model state. Late xl and timer
// callbacks ask current(attempt) first: an attempt overtaken by events only cleans up.
#pragma once

#include "ConsoleFollower.hpp"
#include "CoreDeps.hpp"
#include "DeviceModelChannel.hpp"
#include "DisplayControl.hpp"
#include "DomainProbe.hpp"
#include "Registry.hpp"
#include "SpawnGate.hpp"
#include "SpawnSlots.hpp"
#include "StubLinker.hpp"
#include "Waiters.hpp"
#include "config/Settings.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stubdomd {

// One try at giving a guest a stub domain, from the spawn slot to running. Late xl and
// timer callbacks hold it: once it is cancelled or replaced they only clean up.
struct SpawnAttempt {
    DomId guest = 0;
    std::string stubName;
    std::optional<DomId> stub;
    std::uint64_t reservedKiB = 0;
    bool cancelled = false; // the guest went away or was stopped meanwhile
    bool active = true;     // still holds a spawn slot
    bool retriedNameClash = false;
    std::optional<unsigned> videoRamMiB; // the guest's video memory, when libxl recorded it
};

class SpawnPipeline {
public:
    using Guest = Registry::Guest;
    // The steps that are not the pipeline's own: the teardown step of a guest that no
    // longer has its stub domain (in the same PropertiesChanged as its transition), and a
    // rescan (the PV domains discovery held back while stubs were being created).
    struct Hooks {
        std::function<void(Guest&, GuestView&)> releaseStub;
        std::function<void()> rescanSoon;
    };

    SpawnPipeline(const Settings& settings, const CoreDeps& deps, DomainProbe& probe,
                  StubLinker& linker, Registry& registry, DisplayControl& display,
                  DeviceModelChannel& channel, ConsoleFollower& consoles, Waiters& waiters,
                  Hooks hooks);
    ~SpawnPipeline();
    SpawnPipeline(const SpawnPipeline&) = delete;
    SpawnPipeline& operator=(const SpawnPipeline&) = delete;

    // Spawns wait while the gate is closed; it must outlive the pipeline.
    void setGate(SpawnGate& gate);

    // The guest waits for a spawn slot (pending); pump() hands out the free slots.
    void enqueue(Guest& guest);
    void pump();
    // The guest's attempt no longer counts (Stop, the guest went): it leaves the queue, its
    // start timer and watches go, and its slot is freed — unless xl is still to answer
    // for it (true then): that answer destroys what xl made and frees the slot.
    bool cancel(Guest& guest);
    // The guest is stopped or gone: its attempt is forgotten.
    void forget(DomId guest) { attempts_.erase(guest); }
    // The spawn failed: the stub (if any) is destroyed and unlinked, the guest failed with
    // `why` (and what its console printed last), its Start waiters told.
    void failSpawn(Guest& guest, ErrorCode code, const std::string& why);
    // Stop cancelled the attempt while xl was working: now that xl's callback has cleaned
    // up (or there was nothing to wait for), the guest is stopped.
    void abortAttempt(Guest& guest);
    void stopWatching(Guest& guest);

    // Steps shared with adoption.
    void destroyStub(DomId stub, std::function<void(const ToolResult&)> then = {});
    // The state path that says `running`, if one does (only `changed` when it is one).
    std::optional<std::string> deviceModelRunning(Guest& guest, DomId stub,
                                                  const std::string& changed = {});
    // Throws Error(SpawnFailed) when the QMP proxy of a Linux stub cannot be started.
    void openMonitor(Guest& guest, DomId stub);
    void followConsole(Guest& guest, DomId stub);
    // A leftover stub of that name is destroyed while the queue waits: the respawn would
    // clash with its name.
    void destroyHoldingQueue(DomId stub);
    // The guest's stub died and is restarted: the queue waits until the old stub (same name)
    // is gone, then the guest is queued again if it is still pending.
    void respawnAfter(Guest& guest, DomId oldStub);

    // Whether discovery should hold back its probe of a new PV domain: it may be one of
    // our stubs not yet named by `xl domid`. A rescan follows once the last one is.
    bool deferPvProbe();

private:
    using Attempt = SpawnAttempt;
    // While a stub starts: the device-model state watched, and the start timer.
    struct Watching {
        DomId stub = 0;
        std::vector<Store::WatchId> watches;
        Timers::TimerId startTimer = 0;
    };

    void holdQueue(const std::string& why);
    void beginSpawn(Guest& guest);
    void createStub(const std::shared_ptr<Attempt>& attempt, const std::string& configPath);
    void stubCreationEnded();
    void onCreated(const std::shared_ptr<Attempt>& attempt, const ToolResult& result);
    void onStubDomid(const std::shared_ptr<Attempt>& attempt, const ToolResult& result);
    void linkAndUnpause(Guest& guest, DomId stub);
    void checkRunning(Guest& guest, const std::string& changed);
    void becameRunning(Guest& guest, const std::string& where);
    Guest* current(const std::shared_ptr<Attempt>& attempt);
    void overtaken(const std::shared_ptr<Attempt>& attempt);
    void endAttempt(const std::shared_ptr<Attempt>& attempt);
    void destroyOrphanNamed(const std::string& name);
    std::shared_ptr<Attempt> attemptOf(DomId guest) const;

    // What a spawn needs to know beyond the stub config (SpawnInputs.cpp)
    std::optional<unsigned> guestVideoRamMiB(const Guest& guest);
    std::optional<std::uint64_t> guestRamMiB(const Guest& guest, std::optional<unsigned> video);
    std::string missingStubImage(const StubSpec& spec) const;
    LinkRequest linkRequest(const Guest& guest, DomId stub);

    const Settings& settings_;
    const CoreDeps& deps_;
    DomainProbe& probe_;
    StubLinker& linker_;
    Registry& registry_;
    DisplayControl& display_;
    DeviceModelChannel& channel_;
    ConsoleFollower& consoles_;
    Waiters& waiters_; // answered when a start ends (running, failed) or a stop does
    Hooks hooks_;
    SpawnSlots slots_; // the queue, the slots in use, the memory ledger, the gate
    std::map<DomId, std::shared_ptr<Attempt>> attempts_; // by guest domid, the latest
    std::map<DomId, Watching> watching_;                 // by guest domid
    // Stub domains between `xl create -p` and `xl domid` naming them (see deferPvProbe);
    // pvProbeDeferred_: a probe was held back, and a rescan is due when the last ends.
    unsigned stubsBeingCreated_ = 0;
    bool pvProbeDeferred_ = false;
};

} // namespace stubdomd
