// ListGuests' reply, kept ready: one row per exported guest in one contiguous vector,
// in uuid order (the order the guest objects are kept in), updated as guests come,
// change and go.
//
// Why: ListGuests built its rows on every call by walking the map of guest objects,
// scattered over the heap (a cache miss per node, per view and per path), copying each
// guest's strings into a fresh vector and freeing it again. With the rows kept here the
// call marshals them straight from memory it reads in order, and copies nothing.
#pragma once

#include "core/GuestView.hpp"

#include <sdbus-c++/Types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace stubdomd::dbus {

class GuestRows {
public:
    // name, uuid, state, guest domid, stub domid (0: none), object path: a(sssuuo).
    using Row =
        sdbus::Struct<std::string, std::string, std::string, uint32_t, uint32_t, sdbus::ObjectPath>;

    // A guest exported at `path`. A uuid already listed is replaced.
    void add(const GuestView& guest, const std::string& path);
    // A guest's change; `fields` (GuestField bits) says what changed, and a change of
    // nothing listed leaves the row alone. An unknown uuid is ignored.
    void change(const GuestView& guest, std::uint32_t fields);
    // An unknown uuid is ignored.
    void remove(const std::string& uuid);

    const std::vector<Row>& rows() const { return rows_; }

private:
    // The first row whose uuid is not less than `uuid`.
    std::vector<Row>::iterator lowerBound(const std::string& uuid);
    std::vector<Row>::iterator find(const std::string& uuid);

    std::vector<Row> rows_;
};

} // namespace stubdomd::dbus
