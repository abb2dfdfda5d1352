#include "FakeServices.hpp"

#include <algorithm>

namespace stubdomd::test {

namespace {
template <typename T> void forget(std::vector<T*>& list, T* item) {
    list.erase(std::remove(list.begin(), list.end(), item), list.end());
}
} // namespace

std::vector<GuestView> FakeGuestService::guests() const {
    std::vector<GuestView> list;
    for (const auto& [uuid, guest] : guests_)
        list.push_back(guest);
    return list;
}

std::optional<GuestView> FakeGuestService::findGuest(const std::string& nameOrUuid) const {
    for (const auto& [uuid, guest] : guests_)
        if (guest.name == nameOrUuid || guest.uuid == nameOrUuid)
            return guest;
    return std::nullopt;
}

std::optional<GuestView> FakeGuestService::findGuestByDomid(DomId domid) const {
    for (const auto& [uuid, guest] : guests_)
        if (guest.domid == domid || (guest.stubDomid && guest.stubDomid == domid))
            return guest;
    return std::nullopt;
}

const GuestView& FakeGuestService::known(const std::string& uuid) const {
    auto it = guests_.find(uuid);
    if (it == guests_.end())
        throw Error(ErrorCode::NoSuchGuest, "no guest with uuid '" + uuid + "'");
    return it->second;
}

void FakeGuestService::hold(const std::string& what, const std::string& key, Completion done) {
    held_.hold(key, std::move(done));
    report("pending " + what + " " + key);
}

void FakeGuestService::start(const std::string& uuid, Completion done) {
    const GuestView& guest = known(uuid);
    if (guest.state == GuestState::Running)
        throw Error(ErrorCode::InvalidState, "guest '" + guest.name + "' is already running");
    hold("start", uuid, std::move(done));
}

void FakeGuestService::stop(const std::string& uuid, Completion done) {
    const GuestView& guest = known(uuid);
    if (guest.state == GuestState::Stopped)
        throw Error(ErrorCode::InvalidState, "guest '" + guest.name + "' is not running");
    hold("stop", uuid, std::move(done));
}

void FakeGuestService::restart(const std::string& uuid, Completion done) {
    known(uuid);
    hold("restart", uuid, std::move(done));
}

void FakeGuestService::attach(DomId domid, Completion done) {
    auto guest = findGuestByDomid(domid);
    if (!guest)
        throw Error(ErrorCode::NotHvm, "domain " + std::to_string(domid) + " is not an HVM guest");
    hold("attach", "attach:" + std::to_string(domid), std::move(done));
}

void FakeGuestService::reload() {
    report("reloaded");
}

void FakeGuestService::removeObserver(GuestObserver& observer) {
    forget(observers_, &observer);
}

void FakeGuestService::add(const GuestView& guest) {
    guests_[guest.uuid] = guest;
    for (auto* o : observers_)
        o->guestAdded(guest);
}

void FakeGuestService::change(const GuestView& guest) {
    GuestView& stored = guests_.at(guest.uuid);
    std::uint32_t fields = differingFields(stored, guest);
    stored = guest;
    for (auto* o : observers_)
        o->guestChanged(guest, fields);
}

void FakeGuestService::remove(const std::string& uuid) {
    auto it = guests_.find(uuid);
    if (it == guests_.end())
        return;
    GuestView gone = it->second;
    guests_.erase(it);
    for (auto* o : observers_)
        o->guestRemoved(gone);
}

bool FakeGuestService::complete(const std::string& key, const std::optional<Error>& error) {
    return held_.complete(key, error);
}

const GuestView* FakeGuestService::byUuid(const std::string& uuid) const {
    auto it = guests_.find(uuid);
    return it == guests_.end() ? nullptr : &it->second;
}

std::vector<HelperView> FakeHelperService::helpers() const {
    std::vector<HelperView> list;
    for (const auto& [name, helper] : helpers_)
        list.push_back(helper);
    return list;
}

void FakeHelperService::hold(const std::string& what, const std::string& name, Completion done) {
    if (!helpers_.count(name))
        throw Error(ErrorCode::InvalidArgs, "no helper named '" + name + "'");
    held_.hold(name, std::move(done));
    report("pending helper-" + what + " " + name);
}

void FakeHelperService::start(const std::string& name, Completion done) {
    hold("start", name, std::move(done));
}
void FakeHelperService::stop(const std::string& name, Completion done) {
    hold("stop", name, std::move(done));
}
void FakeHelperService::restart(const std::string& name, Completion done) {
    hold("restart", name, std::move(done));
}

void FakeHelperService::removeObserver(HelperObserver& observer) {
    forget(observers_, &observer);
}

void FakeHelperService::change(const HelperView& helper) {
    HelperView& stored = helpers_.at(helper.name);
    std::uint32_t fields = 0;
    if (stored.state != helper.state)
        fields |= HelperFieldState;
    if (stored.mainPid != helper.mainPid)
        fields |= HelperFieldMainPid;
    if (stored.restarts != helper.restarts)
        fields |= HelperFieldRestarts;
    if (stored.lastExit != helper.lastExit)
        fields |= HelperFieldLastExit;
    stored = helper;
    for (auto* o : observers_)
        o->helperChanged(helper, fields);
}

bool FakeHelperService::complete(const std::string& name, const std::optional<Error>& error) {
    return held_.complete(name, error);
}

const HelperView* FakeHelperService::byName(const std::string& name) const {
    auto it = helpers_.find(name);
    return it == helpers_.end() ? nullptr : &it->second;
}

} // namespace stubdomd::test
