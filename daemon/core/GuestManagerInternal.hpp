// Internals of GuestManager shared by the files that implement it
// (GuestManager.cpp, GuestDiscovery.cpp, SpawnPipeline.cpp, GuestCommands.cpp).
#pragma once

#include "core/GuestManager.hpp"

#include <chrono>
#include <string>

namespace stubdomd::internal {

// A stub domain that ran this long before dying counts as a fresh failure for the
// `restart` policy's limit, not as one more in a crash loop.
inline constexpr auto kRestartForgiveness = std::chrono::seconds(60);
// How long a dead stub domain's guest has to go away too before the stub's death is
// taken as a crash (see stubGone).
inline constexpr auto kStubDeathGrace = std::chrono::milliseconds(1000);
// How long to keep waiting while that guest stays paused (as libxl leaves a guest it is
// destroying) before the stub's death is taken as a crash after all.
inline constexpr auto kStubDeathPatience = std::chrono::seconds(30);

// The last few lines of a command's stderr, on one line, for a StateReason.
std::string lastLines(const std::string& text, std::size_t maxLines = 3);
bool isInProgress(GuestState state);
// "30 s", "2.5 s"
std::string seconds(std::chrono::milliseconds ms);

} // namespace stubdomd::internal

namespace stubdomd {

struct GuestManager::Attempt {
    DomId guest = 0;
    std::string stubName;
    std::optional<DomId> stub;
    std::uint64_t reservedKiB = 0;
    bool cancelled = false; // the guest went away or was stopped meanwhile
    bool active = true;     // still holds a spawn slot
    bool retriedNameClash = false;
    std::optional<unsigned> videoRamMiB; // the guest's video memory, when libxl recorded it
};

struct GuestManager::Guest {
    GuestView view;
    std::optional<StubSpec> spec;
    bool announced = false;
    bool configError = false; // failed on its stub config: Reload and Start retry it
    ErrorCode configErrorCode = ErrorCode::InvalidConfig; // InvalidDisplay for display rules
    std::optional<DisplayPlan> display;                   // the set-up of the next/current stub
    std::optional<GuestDisplayConfig> toolstackDisplay;   // what the toolstack told stubdom-dm
    DomId watchedVnc = 0; // non-zero while console/vnc-port of this stub is watched
    Store::WatchId vncWatch = 0;
    std::shared_ptr<Attempt> attempt;
    std::vector<Completion> startWaiters;
    std::vector<Completion> stopWaiters;
    Timers::TimerId startTimer = 0;
    DomId watchedStub = 0; // non-zero while the device-model state is watched
    std::vector<Store::WatchId> deviceModelWatches; // its two state nodes
    unsigned consecutiveRestarts = 0;
    Clock::time_point runningSince{};
    std::uint64_t consoleLogFrom = 0; // the log's size when this stub's console was followed
    bool startAfterStop = false;
    bool paused = false;          // as the hypervisor last said
    DomId monitoredStub = 0;      // non-zero while the QMP channel of this stub is open
    bool vncPasswordAuth = false; // its qemu was started with -vnc ...,password=on
    std::string lastIgnored;      // the last untrusted node logged, so a guest cannot flood the log
};

} // namespace stubdomd
