// The commands (GuestService's Start, Stop, Restart, Attach, Reload, Pause, Resume and the
// console log), over the components: each checks the guest's state, then hands the work
// to the spawn pipeline, the toolstack or the pause order. Who waits for a start or a
// stop is the Waiters'; the host sleep's pause of every running guest is here too
// (PauseCommands.cpp).
#pragma once

#include "ConsoleFollower.hpp"
#include "CoreDeps.hpp"
#include "Discovery.hpp"
#include "DisplayControl.hpp"
#include "PauseControl.hpp"
#include "Registry.hpp"
#include "SpawnPipeline.hpp"
#include "StubLinker.hpp"
#include "Teardown.hpp"
#include "Waiters.hpp"
#include "config/Settings.hpp"

#include <cstddef>
#include <string>

namespace stubdomd {

class Commands {
public:
    using Guest = Registry::Guest;

    Commands(const Settings& settings, const CoreDeps& deps, Registry& registry, StubLinker& linker,
             Discovery& discovery, SpawnPipeline& spawns, Teardown& teardown,
             DisplayControl& display, ConsoleFollower& consoles, PauseControl& pauses,
             Waiters& waiters);
    Commands(const Commands&) = delete;
    Commands& operator=(const Commands&) = delete;

    // `options`: Start's or Restart's (nullptr for Attach and Reload, which keep them).
    void start(const std::string& uuid, const StartOptions& options, Completion done);
    void stop(const std::string& uuid, Completion done);
    void restart(const std::string& uuid, const StartOptions& options, Completion done);
    void attach(DomId domid, Completion done);
    void reload();
    void pause(const std::string& uuid, Completion done);
    void resume(const std::string& uuid, Completion done);
    std::string consoleLog(const std::string& uuid) const;
    int followConsoleLog(const std::string& uuid);
    // The host sleep (SleepTarget): every running guest paused, then those resumed.
    std::size_t pauseForSleep();
    std::size_t resumeAfterSleep();

private:
    void startGuest(Guest& guest, Completion done, const StartOptions* options = nullptr);
    void stopGuest(Guest& guest, Completion done);
    // The stop's `xl destroy` answered: the guest is stopped (or failed), and a Restart's
    // start follows.
    void stubDestroyed(DomId guest, DomId stub, const ToolResult& result);
    // Pause and resume (PauseCommands.cpp): the guest and its stub, in PauseControl's order.
    void pauseGuest(Guest& guest, const std::string& reason);
    void resumeGuest(Guest& guest, const std::string& reason);

    const Settings& settings_;
    const CoreDeps& deps_;
    Registry& registry_;
    StubLinker& linker_;
    Discovery& discovery_;
    SpawnPipeline& spawns_;
    Teardown& teardown_;
    DisplayControl& display_;
    ConsoleFollower& consoles_;
    PauseControl& pauses_;
    Waiters& waiters_;
};

} // namespace stubdomd
