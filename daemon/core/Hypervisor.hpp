// The hypervisor as the core sees it (libxenctrl in daemon/xen/XenCtrl).
#pragma once

#include "Types.hpp"

#include <cstdint>
#include <vector>

namespace stubdomd {

struct DomainInfo {
    DomId domid = 0;
    bool hvm = false;
    bool dying = false;
    bool shutdown = false; // shut down or crashed, not yet destroyed
    bool paused = false;
    std::uint64_t memoryKiB = 0; // its pages (tot_pages)
    std::uint64_t cpuTimeNs = 0; // the time its vCPUs ran (cpu_time)
    unsigned shutdownReason = 0; // SHUTDOWN_* (public/sched.h), meaningful when `shutdown`
};

class Hypervisor {
public:
    virtual ~Hypervisor() = default;

    // Every domain, ordered by domid: one hypercall batch however many there are.
    virtual std::vector<DomainInfo> listDomains() = 0;
    virtual void setTarget(DomId stub, DomId guest) = 0;
    // SHUTDOWN_crash, what xend did to a guest whose device model died.
    virtual void crash(DomId domid) = 0;
    virtual std::uint64_t freeMemoryKiB() = 0;
    // xc_domain_pause / xc_domain_unpause: synchronous, done when the call returns (Xen
    // counts the toolstack's pauses, so each pause needs its own unpause). Throw Error.
    virtual void pause(DomId domid) = 0;
    virtual void unpause(DomId domid) = 0;
};

} // namespace stubdomd
