// Pausing a guest together with its stub domain, and which guests stubdomd paused for a
// host sleep. libxl_domain_pause pauses only the guest, so a stub domain kept running
// beside a paused guest (or frozen mid-I/O by a host suspend) is what hangs or crashes
// HVM guests on resume (Qubes' "pause also stubdomain"). The order keeps the guest from
// ever running without its device model: the guest stops first and starts last.
#pragma once

#include "Hypervisor.hpp"
#include "Types.hpp"

#include <set>
#include <string>

namespace stubdomd {

class PauseControl {
public:
    explicit PauseControl(Hypervisor& hypervisor) : hypervisor_(hypervisor) {}

    // Pauses the guest, then its stub domain (0: none). If the stub cannot be paused,
    // the guest is unpaused again and the error (Error) is thrown: both or neither.
    void pause(DomId guest, DomId stub);
    // Unpauses the stub domain (0: none), then the guest. A stub that cannot be
    // unpaused leaves the guest paused (it would run without its device model) and
    // throws; a guest that cannot be unpaused throws with its stub running.
    void resume(DomId guest, DomId stub);

    // The guests (by uuid) paused for a host sleep: the wake resumes exactly these.
    void pausedForSleep(const std::string& uuid) { forSleep_.insert(uuid); }
    // An administrator's Resume, a Stop or the guest's end takes it out of the set.
    void forget(const std::string& uuid) { forSleep_.erase(uuid); }
    bool isPausedForSleep(const std::string& uuid) const { return forSleep_.count(uuid) != 0; }
    // The set, emptied: what the wake is to resume.
    std::set<std::string> takeSleepSet();

private:
    Hypervisor& hypervisor_;
    std::set<std::string> forSleep_;
};

} // namespace stubdomd
