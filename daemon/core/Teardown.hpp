// Teardown (DESIGN.md section 4): when a guest goes, its stub domain and what linked them
// go too; when a stub domain goes on its own, its death is judged after a grace (libxl
// destroys a guest's stub first) and on_stubdom_death applied (StubDeath.hpp explains
// it). releaseStub() is the teardown step every transition that ends a stub includes.
#pragma once

#include "ConsoleFollower.hpp"
#include "DeviceModelChannel.hpp"
#include "DisplayControl.hpp"
#include "Hypervisor.hpp"
#include "PauseControl.hpp"
#include "Registry.hpp"
#include "SpawnPipeline.hpp"
#include "StubLinker.hpp"
#include "Timers.hpp"
#include "Waiters.hpp"
#include "config/Settings.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace stubdomd {

class Teardown {
public:
    using Guest = Registry::Guest;
    // rescanNow: a fresh domain list, before a stub's death is judged.
    struct Hooks {
        std::function<void()> rescanNow;
    };

    Teardown(const Settings& settings, Timers& timers, Hypervisor& hypervisor, Registry& registry,
             SpawnPipeline& pipeline, StubLinker& linker, DisplayControl& display,
             DeviceModelChannel& channel, ConsoleFollower& consoles, PauseControl& pauses,
             Waiters& waiters, Hooks hooks);
    Teardown(const Teardown&) = delete;
    Teardown& operator=(const Teardown&) = delete;

    // The guest's domain is gone or dying: its attempt, stub, links and waiters go with it.
    void guestGone(DomId guestDomid);
    // A stub domain is gone, or (stillListed) seen shut down with the hypervisor's
    // `shutdownReason`.
    void stubGone(DomId stubDomid, bool stillListed,
                  std::optional<unsigned> shutdownReason = std::nullopt);
    // The guest runs again after a pause: a stub death that came while it was paused is
    // judged now (on_stubdom_death).
    void resumed(Guest& guest);
    // The guest no longer has its stub domain: where to connect, the VNC-port watch and
    // the QMP channel go with it (inside the transition's edit of the view).
    void releaseStub(Guest& guest, GuestView& view);

private:
    // on_stubdom_death, for a running guest whose stub domain `stub` is already released.
    void applyStubDeathPolicy(Guest& guest, DomId stub, const std::string& what);
    void judgeStubDeath(DomId guestDomid, DomId stubDomid, Clock::time_point since,
                        std::optional<unsigned> shutdownReason);
    void stubDied(Guest& guest, DomId stub, std::optional<unsigned> shutdownReason);
    void failAfterStubDeath(Guest& guest, const std::string& death, const std::string& reason);

    const Settings& settings_;
    Timers& timers_;
    Hypervisor& hypervisor_;
    Registry& registry_;
    SpawnPipeline& pipeline_;
    StubLinker& linker_;
    DisplayControl& display_;
    DeviceModelChannel& channel_;
    ConsoleFollower& consoles_;
    PauseControl& pauses_;
    Waiters& waiters_;
    Hooks hooks_;
    // The stub domain that died while its guest was paused, and how, by guest domid:
    // on_stubdom_death applies once the guest is resumed (a paused guest cannot be crashed
    // or restarted sensibly, and a host sleep must not turn into crashed guests).
    std::map<DomId, std::pair<DomId, std::string>> deathsWhilePaused_;
};

} // namespace stubdomd
