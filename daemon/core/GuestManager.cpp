// The facade's own parts: construction, the teardown step of a stub, the waiters of
// Start and Stop, and GuestService's queries answered by the registry.
#include "core/GuestManager.hpp"

#include "core/GuestStates.hpp"
#include "core/Log.hpp"
#include "core/XenPaths.hpp"

#include <algorithm>

namespace stubdomd {

GuestManager::GuestManager(const Settings& settings, CoreDeps deps)
    : settings_(settings), deps_(std::move(deps)), probe_(deps_.store),
      linker_(deps_.store, deps_.hypervisor), slots_(settings_.maxParallelSpawns),
      pauses_(deps_.hypervisor), channel_(deps_.store),
      display_(settings_, deps_.store, probe_, registry_, channel_, deps_.specs),
      consoles_(deps_.store, settings_.logDir) {}

GuestManager::~GuestManager() {
    for (auto& [domid, guest] : registry_.guests()) {
        if (guest->startTimer)
            deps_.timers.cancel(guest->startTimer);
        if (guest->attempt)
            guest->attempt->cancelled = true;
    }
}

// ---------------------------------------------------------------------------
// The state machine

void GuestManager::releaseStub(Guest& guest, GuestView& view) {
    display_.forget(guest, view); // where to connect exists only with a stub domain
    closeMonitor(guest);          // its QMP proxy goes with it
    view.stubDomid = 0;
}

// ---------------------------------------------------------------------------
// The QMP channel of a Linux stub domain: the engine's steps over DeviceModelChannel

// Throws Error(SpawnFailed) when the proxy cannot be started: as for libxl, a Linux
// stub domain without its QMP channel is a failed spawn.
void GuestManager::openMonitor(Guest& guest, DomId stub) {
    if (!channel_.serves(guest.view.flavour))
        return;
    channel_.open(guest.view.name, guest.view.domid, stub);
    // Decided as linkRequest decided it; for an adopted stub domain, from the password
    // stored now, which is what its start was given unless it changed since.
    channel_.setPasswordAuth(guest.view.domid, display_.startsWithVncPassword(guest));
}

void GuestManager::closeMonitor(Guest& guest) {
    channel_.close(guest.view.domid, fieldsOf(guest));
}

// ---------------------------------------------------------------------------
// The waiters of Start and Stop

void GuestManager::completeStart(Guest& guest, const std::optional<Error>& error) {
    auto waiters = std::move(guest.startWaiters);
    guest.startWaiters.clear();
    for (auto& done : waiters)
        done(error);
}

void GuestManager::completeStop(Guest& guest, const std::optional<Error>& error) {
    auto waiters = std::move(guest.stopWaiters);
    guest.stopWaiters.clear();
    for (auto& done : waiters)
        done(error);
}

GuestManager::Counts GuestManager::counts() const {
    return registry_.counts();
}

// ---------------------------------------------------------------------------
// Queries (GuestService)

std::vector<GuestView> GuestManager::guests() const {
    return registry_.views();
}

std::optional<GuestView> GuestManager::findGuest(const std::string& nameOrUuid) const {
    return registry_.find(nameOrUuid);
}

std::optional<GuestView> GuestManager::findGuestByDomid(DomId domid) const {
    return registry_.findByDomid(domid);
}

void GuestManager::addObserver(GuestObserver& observer) {
    registry_.addObserver(observer);
}

void GuestManager::removeObserver(GuestObserver& observer) {
    registry_.removeObserver(observer);
}

// ---------------------------------------------------------------------------
// Display commands (GuestService), answered by the display component

void GuestManager::setDisplay(const std::string& uuid, const DisplayChoice& choice) {
    display_.setChoice(guestByUuid(uuid), choice);
}

void GuestManager::setDisplayPassword(const std::string& uuid, const std::string& password) {
    display_.setPassword(guestByUuid(uuid), password);
}

void GuestManager::setDisplayPassword(const std::string& uuid, const std::string& password,
                                      Completion done) {
    display_.setPassword(guestByUuid(uuid), password, std::move(done));
}

void GuestManager::getDisplay(const std::string& uuid, DisplayDone done) {
    display_.get(guestByUuid(uuid), std::move(done));
}

void GuestManager::attachWithDisplay(DomId domid, const GuestDisplayConfig& toolstack,
                                     Completion done) {
    if (!registry_.guests().count(domid) && !registry_.stubLinks().count(domid))
        rescan();
    if (Guest* guest = registry_.byDomid(domid))
        display_.takeToolstackSay(*guest, toolstack);
    attach(domid, std::move(done));
}

} // namespace stubdomd
