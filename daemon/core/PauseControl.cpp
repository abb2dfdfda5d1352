#include "core/PauseControl.hpp"

#include "core/Errors.hpp"
#include "core/Log.hpp"

#include <utility>

namespace stubdomd {

void PauseControl::pause(DomId guest, DomId stub) {
    hypervisor_.pause(guest);
    if (!stub)
        return;
    try {
        hypervisor_.pause(stub);
    } catch (const Error& e) {
        // Half paused is worse than not paused: a paused guest with a running stub is
        // the state this exists to avoid, and the caller reports the failure.
        try {
            hypervisor_.unpause(guest);
        } catch (const Error& again) {
            logError({"", guest, stub, ""},
                     std::string("unpausing the guest after its stub domain could not be "
                                 "paused: ") +
                         again.what());
        }
        throw Error(e.code(), std::string("pausing the stub domain: ") + e.what());
    }
}

void PauseControl::resume(DomId guest, DomId stub) {
    if (stub) {
        try {
            hypervisor_.unpause(stub);
        } catch (const Error& e) {
            throw Error(e.code(), std::string("unpausing the stub domain (the guest stays "
                                              "paused): ") +
                                      e.what());
        }
    }
    hypervisor_.unpause(guest);
}

std::set<std::string> PauseControl::takeSleepSet() {
    return std::exchange(forSleep_, {});
}

} // namespace stubdomd
