// The registry's bookkeeping and the read-only queries of GuestService.
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

bool isInProgress(GuestState s) {
    return s == GuestState::Pending || s == GuestState::Spawning || s == GuestState::Linking ||
           s == GuestState::Starting || s == GuestState::Stopping;
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
      consoles_(deps_.store, settings_.logDir) {}

GuestManager::~GuestManager() {
    for (auto& [domid, guest] : guests_) {
        if (guest->startTimer)
            deps_.timers.cancel(guest->startTimer);
        if (guest->attempt)
            guest->attempt->cancelled = true;
    }
}

// ---------------------------------------------------------------------------
// The state machine

bool GuestManager::transition(Guest& guest, GuestState to, std::string reason,
                              const ViewEdit& also) {
    const GuestState from = guest.view.state;
    // Before it is announced, a guest takes its first state, whatever discovery set first.
    const bool allowed = guest.announced ? isAllowedTransition(from, to) : isInitialState(to);
    if (!allowed) {
        logError(fieldsOf(guest), "refused state change " + std::string(toString(from)) + " -> " +
                                      std::string(toString(to)) + " (" + reason + ")");
        return false;
    }
    GuestView before = guest.view;
    guest.view.state = to;
    guest.view.stateReason = std::move(reason);
    if (also)
        also(guest.view);
    if (from != to)
        logDebug(fieldsOf(guest),
                 "state " + std::string(toString(from)) + " -> " + std::string(toString(to)));
    notify(guest, before);
    return true;
}

void GuestManager::fail(Guest& guest, const std::string& reason, const std::string& lastError,
                        const ViewEdit& also) {
    transition(guest, GuestState::Failed, reason, [&](GuestView& v) {
        v.lastError = lastError;
        if (also)
            also(v);
    });
}

void GuestManager::releaseStub(Guest& guest, GuestView& view) {
    forgetDisplay(guest, view); // where to connect exists only with a stub domain
    if (guest.monitoredStub)
        closeMonitor(guest); // its QMP proxy goes with it
    view.stubDomid = 0;
}

// ---------------------------------------------------------------------------
// Registry bookkeeping

void GuestManager::mutate(Guest& guest, const ViewEdit& change) {
    GuestView before = guest.view;
    change(guest.view);
    if (guest.view.state != before.state) {
        logError(fieldsOf(guest), "a state change outside transition(); not made");
        guest.view.state = before.state;
    }
    notify(guest, before);
}

void GuestManager::notify(Guest& guest, const GuestView& before) {
    std::uint32_t fields = differingFields(before, guest.view);
    if (fields == 0 || !guest.announced)
        return; // announce() tells of a guest first, and counts it
    for (auto* observer : observers_)
        observer->guestChanged(guest.view, fields);
    if ((fields & (FieldState | FieldStubDomId)) && countsChanged_)
        countsChanged_();
}

void GuestManager::announce(Guest& guest) {
    guest.announced = true;
    for (auto* observer : observers_)
        observer->guestAdded(guest.view);
    if (countsChanged_)
        countsChanged_();
}

LogFields GuestManager::fieldsOf(const Guest& guest) const {
    LogFields fields;
    fields.guestName = guest.view.name;
    fields.guestDomid = guest.view.domid;
    if (guest.view.stubDomid)
        fields.stubDomid = guest.view.stubDomid;
    return fields;
}

GuestManager::Guest* GuestManager::guestByDomid(DomId domid) {
    auto it = guests_.find(domid);
    return it == guests_.end() ? nullptr : it->second.get();
}

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
    Counts c;
    for (const auto& [domid, guest] : guests_) {
        ++c.guests;
        GuestState s = guest->view.state;
        if (s != GuestState::Unmanaged)
            ++c.managed;
        if (s == GuestState::Running)
            ++c.running;
        if (s == GuestState::Failed)
            ++c.failed;
        if (isInProgress(s))
            ++c.inProgress;
    }
    return c;
}

// ---------------------------------------------------------------------------
// Queries (GuestService)

std::vector<GuestView> GuestManager::guests() const {
    std::vector<GuestView> views;
    views.reserve(guests_.size());
    for (const auto& [domid, guest] : guests_)
        if (guest->announced)
            views.push_back(guest->view);
    return views;
}

std::optional<GuestView> GuestManager::findGuest(const std::string& nameOrUuid) const {
    for (const auto& [domid, guest] : guests_)
        if (guest->announced && (guest->view.name == nameOrUuid || guest->view.uuid == nameOrUuid))
            return guest->view;
    return std::nullopt;
}

std::optional<GuestView> GuestManager::findGuestByDomid(DomId domid) const {
    auto link = stubs_.find(domid);
    if (link != stubs_.end())
        domid = link->second;
    auto it = guests_.find(domid);
    if (it == guests_.end() || !it->second->announced)
        return std::nullopt;
    return it->second->view;
}

void GuestManager::addObserver(GuestObserver& observer) {
    observers_.push_back(&observer);
}

void GuestManager::removeObserver(GuestObserver& observer) {
    observers_.erase(std::remove(observers_.begin(), observers_.end(), &observer),
                     observers_.end());
}

} // namespace stubdomd
