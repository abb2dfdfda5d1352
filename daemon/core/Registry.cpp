// The registry's bookkeeping: the state machine applied, the observers told, and the
// read-only queries of GuestService.
#include "core/Registry.hpp"

#include "core/GuestStates.hpp"

#include <algorithm>

namespace stubdomd {

LogFields fieldsOf(const EngineGuest& guest) {
    LogFields fields;
    fields.guestName = guest.view.name;
    fields.guestDomid = guest.view.domid;
    if (guest.view.stubDomid)
        fields.stubDomid = guest.view.stubDomid;
    return fields;
}

void Registry::forEach(const std::function<void(Guest&)>& visit) {
    for (auto& [domid, guest] : guests_)
        visit(*guest);
}

Registry::Guest* Registry::byDomid(DomId domid) {
    auto it = guests_.find(domid);
    return it == guests_.end() ? nullptr : it->second.get();
}

Registry::Guest* Registry::byUuid(const std::string& uuid) {
    for (auto& [domid, guest] : guests_)
        if (guest->view.uuid == uuid)
            return guest.get();
    return nullptr;
}

Registry::Guest* Registry::byName(const std::string& name) {
    for (auto& [domid, guest] : guests_)
        if (guest->view.name == name)
            return guest.get();
    return nullptr;
}

Registry::Guest& Registry::announced(const std::string& uuid) {
    Guest* guest = byUuid(uuid);
    if (guest && guest->announced)
        return *guest;
    throw Error(ErrorCode::NoSuchGuest, "no guest with uuid " + uuid);
}

std::vector<DomId> Registry::stubsOf(DomId guest) const {
    std::vector<DomId> linked;
    for (const auto& [stub, served] : stubs_)
        if (served == guest)
            linked.push_back(stub);
    return linked;
}

void Registry::linkStub(DomId stub, DomId guest) {
    stubs_[stub] = guest;
    seen_[stub].kind = Kind::Stub;
}

std::optional<DomId> Registry::guestOfStub(DomId stub) const {
    auto it = stubs_.find(stub);
    return it == stubs_.end() ? std::nullopt : std::optional<DomId>(it->second);
}

const Registry::Seen* Registry::seenOf(DomId domid) const {
    auto it = seen_.find(domid);
    return it == seen_.end() ? nullptr : &it->second;
}

// Both sides are ordered by domid: one merge walk finds the new, the gone and the known
// ones whose flags may have changed.
Registry::ListDiff Registry::takeList(const std::vector<DomainInfo>& domains) {
    ListDiff diff;
    listed_.clear();
    for (const DomainInfo& info : domains)
        listed_.insert(info.domid);
    auto seenIt = seen_.begin();
    for (const DomainInfo& info : domains) {
        while (seenIt != seen_.end() && seenIt->first < info.domid)
            diff.gone.push_back((seenIt++)->first);
        if (seenIt != seen_.end() && seenIt->first == info.domid) {
            const Seen& known = (seenIt++)->second;
            const bool retry =
                known.pvRetry && known.kind == Kind::Ignored && !info.dying && !info.shutdown;
            diff.listed.emplace_back(info, retry ? Listing::RetryPv : Listing::Known);
        } else {
            diff.listed.emplace_back(info, Listing::New);
        }
    }
    for (; seenIt != seen_.end(); ++seenIt)
        diff.gone.push_back(seenIt->first);
    return diff;
}

Registry::Guest& Registry::add(DomId domid, std::unique_ptr<Guest> guest) {
    Guest& added = *guest;
    guests_[domid] = std::move(guest);
    return added;
}

// ---------------------------------------------------------------------------
// The state machine

bool Registry::transition(Guest& guest, GuestState to, std::string reason, const ViewEdit& also) {
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

void Registry::fail(Guest& guest, const std::string& reason, const std::string& lastError,
                    const ViewEdit& also) {
    transition(guest, GuestState::Failed, reason, [&](GuestView& v) {
        v.lastError = lastError;
        if (also)
            also(v);
    });
}

void Registry::mutate(Guest& guest, const ViewEdit& change) {
    GuestView before = guest.view;
    change(guest.view);
    if (guest.view.state != before.state) {
        logError(fieldsOf(guest), "a state change outside transition(); not made");
        guest.view.state = before.state;
    }
    notify(guest, before);
}

void Registry::notify(Guest& guest, const GuestView& before) {
    std::uint32_t fields = differingFields(before, guest.view);
    if (fields == 0 || !guest.announced)
        return; // announce() tells of a guest first, and counts it
    for (auto* observer : observers_)
        observer->guestChanged(guest.view, fields);
    if (fields & (FieldState | FieldStubDomId))
        countsMayHaveChanged();
}

void Registry::stubFailed(const Guest& guest, const std::string& cause,
                          const std::string& message) {
    if (!guest.announced)
        return;
    for (auto* observer : observers_)
        observer->stubFailed(guest.view, cause, message);
}

void Registry::displayClientChanged(const Guest& guest, bool connected, unsigned clients) {
    if (!guest.announced)
        return;
    for (auto* observer : observers_)
        observer->displayClientChanged(guest.view, connected, clients);
}

void Registry::announce(Guest& guest) {
    guest.announced = true;
    for (auto* observer : observers_)
        observer->guestAdded(guest.view);
    countsMayHaveChanged();
}

void Registry::remove(DomId domid) {
    auto it = guests_.find(domid);
    if (it == guests_.end())
        return;
    std::unique_ptr<Guest> owned = std::move(it->second);
    guests_.erase(it);
    if (owned->announced)
        for (auto* observer : observers_)
            observer->guestRemoved(owned->view);
    countsMayHaveChanged();
}

// ---------------------------------------------------------------------------
// Queries

Registry::Counts Registry::counts() const {
    Counts c;
    for (const auto& [domid, guest] : guests_) {
        ++c.guests;
        GuestState s = guest->view.state;
        if (s != GuestState::Unmanaged)
            ++c.managed;
        if (s == GuestState::Running)
            ++c.running;
        if (s == GuestState::Paused)
            ++c.paused;
        if (s == GuestState::Failed)
            ++c.failed;
        if (isInProgress(s))
            ++c.inProgress;
    }
    return c;
}

std::vector<GuestView> Registry::views() const {
    std::vector<GuestView> views;
    views.reserve(guests_.size());
    for (const auto& [domid, guest] : guests_)
        if (guest->announced)
            views.push_back(guest->view);
    return views;
}

std::optional<GuestView> Registry::find(const std::string& nameOrUuid) const {
    for (const auto& [domid, guest] : guests_)
        if (guest->announced && (guest->view.name == nameOrUuid || guest->view.uuid == nameOrUuid))
            return guest->view;
    return std::nullopt;
}

std::optional<GuestView> Registry::findByDomid(DomId domid) const {
    auto link = stubs_.find(domid);
    if (link != stubs_.end())
        domid = link->second;
    auto it = guests_.find(domid);
    if (it == guests_.end() || !it->second->announced)
        return std::nullopt;
    return it->second->view;
}

void Registry::addObserver(GuestObserver& observer) {
    observers_.push_back(&observer);
}

void Registry::removeObserver(GuestObserver& observer) {
    observers_.erase(std::remove(observers_.begin(), observers_.end(), &observer),
                     observers_.end());
}

} // namespace stubdomd
