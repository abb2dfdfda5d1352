// A guest's stub domain as the hypervisor sees it, for a VM manager to show: its memory in
// use (tot_pages) and its vCPU time (cpu_time) as StubMemoryUsedKiB and StubCpuTimeNs. A
// component of the engine with its own state: who listens to which guest, when each was
// last sampled, and its one timer. Nothing is read while nobody listens; a guest is
// sampled at most once a second however many listen and however often they come.
#pragma once

#include "Hypervisor.hpp"
#include "Registry.hpp"
#include "Timers.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace stubdomd {

class ResourceSampler {
public:
    static constexpr std::chrono::milliseconds kPeriod{1000};

    ResourceSampler(Registry& registry, Hypervisor& hypervisor, Timers& timers)
        : registry_(registry), hypervisor_(hypervisor), timers_(timers) {}
    ~ResourceSampler();
    ResourceSampler(const ResourceSampler&) = delete;
    ResourceSampler& operator=(const ResourceSampler&) = delete;

    // One more listener of the guest (by uuid, so that it outlives a guest's domain):
    // sampled now unless it was within the period, then every period.
    void watch(const std::string& uuid);
    // One listener fewer; with none left, the guest is no longer sampled.
    void unwatch(const std::string& uuid);
    std::size_t watched() const { return watched_.size(); }

private:
    struct Listened {
        unsigned listeners = 0;
        std::optional<Clock::time_point> sampled;
    };
    // Samples the watched guests that are due (one domain list for all), then arms the
    // timer for the next one due.
    void sampleDue();
    void arm();

    Registry& registry_;
    Hypervisor& hypervisor_;
    Timers& timers_;
    std::map<std::string, Listened> watched_; // by guest uuid
    Timers::TimerId timer_ = 0;
    std::string lastFailure_; // a failing domain list is logged once, not each period
};

} // namespace stubdomd
