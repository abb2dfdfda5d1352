// The QMP channel of a Linux stub domain's device model: opened when the stub domain is
// linked (or adopted), closed whenever the guest's stub domain ends or changes.
#include "core/GuestManagerInternal.hpp"

#include "core/Log.hpp"
#include "core/XenPaths.hpp"

namespace stubdomd {

bool GuestManager::speaksQmp(const Guest& guest) const {
    return monitor_ && guest.view.flavour == Flavour::Linux;
}

// Throws Error(SpawnFailed) when the proxy cannot be started: as for libxl, a Linux
// stub domain without its QMP channel is a failed spawn.
void GuestManager::openMonitor(Guest& guest, DomId stub) {
    if (!speaksQmp(guest))
        return;
    monitor_->open(guest.view.name, guest.view.domid, stub);
    guest.monitoredStub = stub;
    // Decided as linkRequest decided it; for an adopted stub domain, from the password
    // stored now, which is what its start was given unless it changed since.
    guest.vncPasswordAuth = startsWithVncPassword(guest);
}

void GuestManager::closeMonitor(Guest& guest) {
    if (!guest.monitoredStub || !monitor_)
        return;
    const DomId stub = guest.monitoredStub;
    guest.monitoredStub = 0;
    guest.vncPasswordAuth = false;
    monitor_->close(guest.view.domid);
    // The proxy's --state-path lives under dom0's device-model directory of the stub.
    try {
        deps_.store.remove(paths::legacyDeviceModel(stub));
    } catch (const Error& e) {
        logWarning(fieldsOf(guest), std::string("cleaning the QMP proxy's state: ") + e.what());
    }
}

} // namespace stubdomd
