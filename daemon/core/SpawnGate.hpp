// What may hold stub-domain spawns back: a dom0 helper marked `required` (fs-backend)
// must run before a stub domain is created. The engine asks before each spawn; the
// helper supervisor implements it. Kept apart from the supervisor so the core knows
// nothing of processes.
#pragma once

#include <functional>
#include <string>

namespace stubdomd {

class SpawnGate {
public:
    virtual ~SpawnGate() = default;

    // Empty while spawns may go ahead; else why they wait, for the waiting guests'
    // StateReason ("waiting for helper fs-backend, which is restarting").
    virtual std::string closedBecause() const = 0;
    // Spawns go ahead, but the stub domain may miss something: logged on each guest
    // spawned meanwhile ("helper fs-backend is not running (disabled) ..."). Empty if
    // nothing is missing.
    virtual std::string caveat() const = 0;
    // Called from the loop whenever closedBecause() may have changed; the engine then
    // moves its queue or updates the waiting guests' reasons. One listener.
    virtual void onChange(std::function<void()> listener) = 0;
};

} // namespace stubdomd
