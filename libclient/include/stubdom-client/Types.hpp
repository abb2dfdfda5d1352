// Plain values the client hands out: one struct per object kind of the API, holding
// every property of its interface (org.xen.Stubdom.Guest, org.xen.Stubdom.Helper).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace stubdom {

// Method calls wait this long by default: Start and Attach reply only once the stub
// domain runs, and the daemon's own start timeout is 30 s, so leave room for queueing.
using Timeout = std::chrono::milliseconds;
inline constexpr Timeout kDefaultTimeout{std::chrono::seconds(60)};

struct GuestInfo {
    std::string path; // the daemon's object path; use it as it is, never rebuild it
    std::string name;
    std::string uuid;
    std::uint32_t domid = 0;
    std::uint32_t stubDomid = 0; // 0: no stub domain
    std::string state;           // pending … running, stopped, failed, unmanaged
    std::string stateReason;
    std::string flavour;
    std::string displayMode;
    std::string displayAddress;
    std::int32_t displayPort = -1;
    std::uint32_t restarts = 0;
    std::string lastError;
};

struct HelperInfo {
    std::string path;
    std::string name;
    std::string state; // running, restarting, failed, stopped, disabled
    std::uint32_t mainPid = 0;
    std::uint32_t restarts = 0;
    std::string lastExit;
};

bool operator==(const GuestInfo& a, const GuestInfo& b);
inline bool operator!=(const GuestInfo& a, const GuestInfo& b) {
    return !(a == b);
}

} // namespace stubdom
