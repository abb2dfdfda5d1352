#include "core/ResourceSampler.hpp"

#include "core/Log.hpp"

#include <algorithm>
#include <vector>

namespace stubdomd {

ResourceSampler::~ResourceSampler() {
    if (timer_)
        timers_.cancel(timer_);
}

void ResourceSampler::watch(const std::string& uuid) {
    ++watched_[uuid].listeners;
    sampleDue();
}

void ResourceSampler::unwatch(const std::string& uuid) {
    auto it = watched_.find(uuid);
    if (it == watched_.end())
        return;
    if (--it->second.listeners == 0)
        watched_.erase(it);
    if (watched_.empty() && timer_) {
        timers_.cancel(timer_);
        timer_ = 0;
    }
}

void ResourceSampler::sampleDue() {
    const Clock::time_point now = timers_.now();
    std::vector<std::string> due;
    for (const auto& [uuid, listened] : watched_)
        if (!listened.sampled || now - *listened.sampled >= kPeriod)
            due.push_back(uuid);
    if (!due.empty()) {
        std::map<DomId, DomainInfo> domains;
        try {
            for (const DomainInfo& info : hypervisor_.listDomains())
                domains[info.domid] = info;
            lastFailure_.clear();
        } catch (const Error& e) {
            if (lastFailure_ != e.what())
                logWarning({}, std::string("sampling stub domains: ") + e.what());
            lastFailure_ = e.what();
        }
        for (const std::string& uuid : due) {
            watched_[uuid].sampled = now;
            Registry::Guest* guest = registry_.byUuid(uuid);
            if (!guest)
                continue; // gone; its listeners may stay for the guest's next domain
            auto info = domains.find(guest->view.stubDomid);
            const bool found = guest->view.stubDomid != 0 && info != domains.end();
            registry_.mutate(*guest, [&](GuestView& v) {
                v.stubMemoryUsedKiB = found ? info->second.memoryKiB : 0;
                v.stubCpuTimeNs = found ? info->second.cpuTimeNs : 0;
            });
        }
    }
    arm();
}

void ResourceSampler::arm() {
    if (timer_) {
        timers_.cancel(timer_);
        timer_ = 0;
    }
    if (watched_.empty())
        return;
    // The next guest due; every watched one has been sampled by now.
    Clock::time_point next = Clock::time_point::max();
    for (const auto& [uuid, listened] : watched_)
        next = std::min(next, listened.sampled.value_or(timers_.now()) + kPeriod);
    const auto delay = std::max(std::chrono::milliseconds(1),
                                std::chrono::ceil<std::chrono::milliseconds>(next - timers_.now()));
    timer_ = timers_.after(delay, [this] {
        timer_ = 0;
        sampleDue();
    });
}

} // namespace stubdomd
