// The facade: construction (the components and their wiring), and each GuestService call
// handed to the component that answers it.
#include "core/GuestManager.hpp"

#include "core/GuestStates.hpp"
#include "core/Log.hpp"
#include "core/XenPaths.hpp"

#include <algorithm>

namespace stubdomd {

GuestManager::GuestManager(const Settings& settings, CoreDeps deps)
    : settings_(settings), deps_(std::move(deps)), probe_(deps_.store),
      linker_(deps_.store, deps_.hypervisor), pauses_(deps_.hypervisor), channel_(deps_.store),
      display_(settings_, deps_.store, probe_, registry_, channel_, deps_.specs),
      consoles_(deps_.store, settings_.logDir),
      spawns_(settings_, deps_, probe_, linker_, registry_, display_, channel_, consoles_, waiters_,
              {[this](Guest& guest, GuestView& view) { teardown_.releaseStub(guest, view); },
               [this] {
                   discovery_.scheduleRescan();
               }}),
      teardown_(settings_, deps_.timers, deps_.hypervisor, registry_, spawns_, linker_, display_,
                channel_, consoles_, pauses_, waiters_, {[this] {
                    discovery_.rescan();
                }}),
      resources_(registry_, deps_.hypervisor, deps_.timers),
      discovery_(settings_, deps_, probe_, linker_, registry_, spawns_, teardown_, display_,
                 consoles_),
      commands_(settings_, deps_, registry_, linker_, discovery_, spawns_, teardown_, display_,
                consoles_, pauses_, waiters_) {}

GuestManager::~GuestManager() = default;

void GuestManager::start() {
    discovery_.start();
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
// Commands (GuestService)

void GuestManager::start(const std::string& uuid, Completion done) {
    commands_.start(uuid, {}, std::move(done));
}

void GuestManager::startWith(const std::string& uuid, const StartOptions& options,
                             Completion done) {
    commands_.start(uuid, options, std::move(done));
}

void GuestManager::stop(const std::string& uuid, Completion done) {
    commands_.stop(uuid, std::move(done));
}

void GuestManager::restart(const std::string& uuid, Completion done) {
    commands_.restart(uuid, {}, std::move(done));
}

void GuestManager::restartWith(const std::string& uuid, const StartOptions& options,
                               Completion done) {
    commands_.restart(uuid, options, std::move(done));
}

void GuestManager::attach(DomId domid, Completion done) {
    commands_.attach(domid, std::move(done));
}

void GuestManager::reload() {
    commands_.reload();
}

void GuestManager::pause(const std::string& uuid, Completion done) {
    commands_.pause(uuid, std::move(done));
}

void GuestManager::resume(const std::string& uuid, Completion done) {
    commands_.resume(uuid, std::move(done));
}

std::string GuestManager::consoleLog(const std::string& uuid) const {
    return commands_.consoleLog(uuid);
}

int GuestManager::followConsoleLog(const std::string& uuid) {
    return commands_.followConsoleLog(uuid);
}

std::size_t GuestManager::pauseForSleep() {
    return commands_.pauseForSleep();
}

std::size_t GuestManager::resumeAfterSleep() {
    return commands_.resumeAfterSleep();
}

// ---------------------------------------------------------------------------
// Display commands (GuestService), answered by the display component

void GuestManager::setDisplay(const std::string& uuid, const DisplayChoice& choice) {
    display_.setChoice(registry_.announced(uuid), choice);
}

void GuestManager::setDisplayPassword(const std::string& uuid, const std::string& password) {
    display_.setPassword(registry_.announced(uuid), password);
}

void GuestManager::setDisplayPassword(const std::string& uuid, const std::string& password,
                                      Completion done) {
    display_.setPassword(registry_.announced(uuid), password, std::move(done));
}

void GuestManager::getDisplay(const std::string& uuid, DisplayDone done) {
    display_.get(registry_.announced(uuid), std::move(done));
}

void GuestManager::attachWithDisplay(DomId domid, const GuestDisplayConfig& toolstack,
                                     Completion done) {
    if (!registry_.byDomid(domid) && !registry_.guestOfStub(domid))
        discovery_.rescan();
    if (Guest* guest = registry_.byDomid(domid))
        display_.takeToolstackSay(*guest, toolstack);
    attach(domid, std::move(done));
}

// ---------------------------------------------------------------------------
// What a stub uses (ResourceSampler), while someone listens

void GuestManager::watchResources(const std::string& uuid) {
    registry_.announced(uuid); // throws NoSuchGuest
    resources_.watch(uuid);
}

void GuestManager::unwatchResources(const std::string& uuid) {
    resources_.unwatch(uuid);
}

} // namespace stubdomd
