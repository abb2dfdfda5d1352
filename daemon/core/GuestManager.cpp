// The facade's own parts: construction, the teardown step of a stub, the waiters of
// Start and Stop, and GuestService's queries answered by the registry.
#include "core/GuestManagerInternal.hpp"

#include "core/GuestStates.hpp"
#include "core/Log.hpp"
#include "core/XenPaths.hpp"

#include <algorithm>

namespace stubdomd {

using namespace internal;

namespace internal {
std::string lastLines(const std::string& text, std::size_t maxLines) {
    std::string trimmed = text;
    while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' '))
        trimmed.pop_back();
    std::size_t pos = trimmed.size();
    for (std::size_t n = 0; n < maxLines && pos != std::string::npos; ++n)
        pos = pos == 0 ? std::string::npos : trimmed.rfind('\n', pos - 1);
    std::string tail = pos == std::string::npos ? trimmed : trimmed.substr(pos + 1);
    std::replace(tail.begin(), tail.end(), '\n', ' ');
    return tail.empty() ? "(no message)" : tail;
}

std::string seconds(std::chrono::milliseconds ms) {
    auto whole = ms.count() / 1000;
    auto tenths = (ms.count() % 1000) / 100;
    return std::to_string(whole) + (tenths ? "." + std::to_string(tenths) : "") + " s";
}

} // namespace internal

GuestManager::GuestManager(const Settings& settings, CoreDeps deps)
    : settings_(settings), deps_(std::move(deps)), probe_(deps_.store),
      linker_(deps_.store, deps_.hypervisor), slots_(settings_.maxParallelSpawns),
      pauses_(deps_.hypervisor), channel_(deps_.store), consoles_(deps_.store, settings_.logDir) {}

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
    forgetDisplay(guest, view); // where to connect exists only with a stub domain
    closeMonitor(guest);        // its QMP proxy goes with it
    view.stubDomid = 0;
}

// ---------------------------------------------------------------------------
// The QMP channel of a Linux stub domain: the engine's steps over DeviceModelChannel

bool GuestManager::speaksQmp(const Guest& guest) const {
    return channel_.available() && guest.view.flavour == Flavour::Linux;
}

// Throws Error(SpawnFailed) when the proxy cannot be started: as for libxl, a Linux
// stub domain without its QMP channel is a failed spawn.
void GuestManager::openMonitor(Guest& guest, DomId stub) {
    if (!speaksQmp(guest))
        return;
    channel_.open(guest.view.name, guest.view.domid, stub);
    // Decided as linkRequest decided it; for an adopted stub domain, from the password
    // stored now, which is what its start was given unless it changed since.
    channel_.setPasswordAuth(guest.view.domid, startsWithVncPassword(guest));
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

} // namespace stubdomd
