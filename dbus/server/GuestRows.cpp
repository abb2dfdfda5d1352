#include "dbus/server/GuestRows.hpp"

#include <algorithm>

namespace stubdomd::dbus {

namespace {

// The listed columns: a change of any other field (display, memory, CPU time...) does
// not touch ListGuests' reply.
constexpr std::uint32_t kListedFields =
    FieldName | FieldUuid | FieldDomId | FieldStubDomId | FieldState;

void fill(GuestRows::Row& row, const GuestView& guest) {
    row.get<0>() = guest.name;
    row.get<1>() = guest.uuid;
    row.get<2>() = std::string(toString(guest.state));
    row.get<3>() = guest.domid;
    row.get<4>() = guest.stubDomid;
}

} // namespace

std::vector<GuestRows::Row>::iterator GuestRows::lowerBound(const std::string& uuid) {
    return std::lower_bound(
        rows_.begin(), rows_.end(), uuid,
        [](const Row& row, const std::string& key) { return row.get<1>() < key; });
}

std::vector<GuestRows::Row>::iterator GuestRows::find(const std::string& uuid) {
    auto it = lowerBound(uuid);
    return it != rows_.end() && it->get<1>() == uuid ? it : rows_.end();
}

void GuestRows::add(const GuestView& guest, const std::string& path) {
    auto it = lowerBound(guest.uuid);
    if (it == rows_.end() || it->get<1>() != guest.uuid)
        it = rows_.emplace(it);
    fill(*it, guest);
    it->get<5>() = sdbus::ObjectPath(path);
}

void GuestRows::change(const GuestView& guest, std::uint32_t fields) {
    if (!(fields & kListedFields))
        return;
    auto it = find(guest.uuid);
    if (it != rows_.end())
        fill(*it, guest);
}

void GuestRows::remove(const std::string& uuid) {
    auto it = find(uuid);
    if (it != rows_.end())
        rows_.erase(it);
}

} // namespace stubdomd::dbus
