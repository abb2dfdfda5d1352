// The engine of DESIGN.md sections 3 and 4, as a facade: it builds the components, wires
// them to each other and hands each GuestService call to the one that answers it — the
// registry (the guests and the state machine, Registry.hpp), discovery and adoption
// (Discovery.hpp), the spawn pipeline (SpawnPipeline.hpp), the teardown (Teardown.hpp),
// the commands and their waiters (Commands.hpp, Waiters.hpp), the QMP channels
// (DeviceModelChannel.hpp), the displays (DisplayControl.hpp) and the console follower
// (ConsoleFollower.hpp).
// Single-threaded: every entry point runs on the event loop, and every asynchronous step (xl,
// timers, watches) comes back through it.
#pragma once

#include "Commands.hpp"
#include "ConsoleFollower.hpp"
#include "ConsoleLinks.hpp"
#include "ConsoleLogs.hpp"
#include "CoreDeps.hpp"
#include "DeviceModelChannel.hpp"
#include "DeviceModelMonitor.hpp"
#include "Discovery.hpp"
#include "DisplayControl.hpp"
#include "DisplayLinks.hpp"
#include "DomainProbe.hpp"
#include "GuestService.hpp"
#include "HostSleep.hpp"
#include "Hypervisor.hpp"
#include "Log.hpp"
#include "PauseControl.hpp"
#include "Registry.hpp"
#include "ResourceSampler.hpp"
#include "SpawnGate.hpp"
#include "SpawnPipeline.hpp"
#include "Store.hpp"
#include "StubLinker.hpp"
#include "StubSpec.hpp"
#include "Teardown.hpp"
#include "Timers.hpp"
#include "Toolstack.hpp"
#include "Waiters.hpp"
#include "config/Settings.hpp"

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <vector>

namespace stubdomd {

class GuestManager : public GuestService, public SleepTarget {
public:
    GuestManager(const Settings& settings, CoreDeps deps);
    ~GuestManager() override;
    GuestManager(const GuestManager&) = delete;
    GuestManager& operator=(const GuestManager&) = delete;

    // Spawns wait while the gate is closed (a required helper is not running). Set
    // before start(); the gate must outlive the manager. Without one, nothing waits.
    void setSpawnGate(SpawnGate& gate) { spawns_.setGate(gate); }
    // Where the guests' own configs, stored display choices and the X display come from.
    // Set before start(); without it, display set-ups come from the stub configs alone.
    void setDisplaySources(DisplaySources& sources) { display_.setSources(sources); }
    // The QMP channel of Linux stub domains. Set before start(); it must outlive the
    // manager. Without one, Linux stub domains run without a monitor.
    void setDeviceModelMonitor(DeviceModelMonitor& monitor) { channel_.setMonitor(monitor); }
    // Where stub domains' consoles are logged (settings.logDir/qemu-dm-<guest>.log). Set
    // before start(); it must outlive the manager. Without it, consoles are not logged.
    void setConsoleLogs(ConsoleLogs& logs) { consoles_.setLogs(logs); }
    // OpenDisplay's connections (GuestDisplayLinks.cpp). Set before start(); it must
    // outlive the manager. Without it, OpenDisplay is NotSupported.
    void setDisplayLinks(DisplayLinks& links) { displayLinks_ = &links; }
    // OpenConsole's PTYs (GuestConsoleLinks.cpp). Set before start(); it must outlive the
    // manager. Without it (or without console logs), OpenConsole is NotSupported.
    void setConsoleLinks(ConsoleLinks& links) { consoleLinks_ = &links; }

    // Rebuilds the registry from what runs (adopting linked stub domains, removing
    // half-made ones), then watches @introduceDomain/@releaseDomain.
    void start();

    using Counts = Registry::Counts;
    Counts counts() const;
    // Called whenever counts() may have changed (sd_notify STATUS=).
    void onCountsChanged(std::function<void()> callback) {
        registry_.onCountsChanged(std::move(callback));
    }

    // GuestService
    std::vector<GuestView> guests() const override;
    std::optional<GuestView> findGuest(const std::string& nameOrUuid) const override;
    std::optional<GuestView> findGuestByDomid(DomId domid) const override;
    void start(const std::string& uuid, Completion done) override;
    void stop(const std::string& uuid, Completion done) override;
    void restart(const std::string& uuid, Completion done) override;
    void startWith(const std::string& uuid, const StartOptions& options, Completion done) override;
    void restartWith(const std::string& uuid, const StartOptions& options,
                     Completion done) override;
    void attach(DomId domid, Completion done) override;
    void reload() override;
    void pause(const std::string& uuid, Completion done) override;
    void resume(const std::string& uuid, Completion done) override;
    void setDisplay(const std::string& uuid, const DisplayChoice& choice) override;
    void setDisplayPassword(const std::string& uuid, const std::string& password) override;
    void getDisplay(const std::string& uuid, DisplayDone done) override;
    void setDisplayPassword(const std::string& uuid, const std::string& password,
                            Completion done) override;
    void attachWithDisplay(DomId domid, const GuestDisplayConfig& toolstack,
                           Completion done) override;
    std::string consoleLog(const std::string& uuid) const override;
    int followConsoleLog(const std::string& uuid) override;
    void openDisplay(const std::string& uuid, DisplayOpened done) override;
    ConsoleOpened openConsole(const std::string& uuid, const std::string& name) override;
    void watchResources(const std::string& uuid) override;
    void unwatchResources(const std::string& uuid) override;
    void addObserver(GuestObserver& observer) override;
    void removeObserver(GuestObserver& observer) override;

    // SleepTarget
    std::size_t pauseForSleep() override;
    std::size_t resumeAfterSleep() override;

private:
    using Guest = Registry::Guest;
    static DisplayEndpoint networkDisplay(const GuestView& view);

    Settings settings_;
    CoreDeps deps_;
    DisplayLinks* displayLinks_ = nullptr;
    ConsoleLinks* consoleLinks_ = nullptr;
    DomainProbe probe_;
    StubLinker linker_;
    Registry registry_;          // the guests, the stub links, what was seen; the state machine
    PauseControl pauses_;        // the pause order and the guests paused for a host sleep
    Waiters waiters_;            // who waits for a start or a stop, by guest domid
    DeviceModelChannel channel_; // the QMP channels of Linux stub domains
    DisplayControl display_;     // the display set-ups, VNC passwords and VNC-port watches
    ConsoleFollower consoles_;   // the stubs' console logs
    SpawnPipeline spawns_;       // the queue, the slots, the attempts, the start watches
    Teardown teardown_;          // gone guests, gone stubs, the stub-death policy
    ResourceSampler resources_;  // the stubs' memory and vCPU time, while watched
    Discovery discovery_;        // the domain-list diff, the trust rule, adoption
    Commands commands_;          // Start, Stop, Restart, Attach, Reload, Pause, Resume
};

} // namespace stubdomd
