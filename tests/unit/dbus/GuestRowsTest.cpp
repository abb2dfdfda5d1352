// ListGuests' rows kept ready (GuestRows): in uuid order, and never stale after a
// guest is added, changed or removed.
#include "dbus/server/GuestRows.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using namespace stubdomd::dbus;

namespace {

GuestView guest(const std::string& name, const std::string& uuid, DomId domid) {
    GuestView view;
    view.name = name;
    view.uuid = uuid;
    view.domid = domid;
    view.state = GuestState::Unmanaged;
    return view;
}

std::vector<std::string> uuids(const GuestRows& rows) {
    std::vector<std::string> out;
    for (const auto& row : rows.rows())
        out.push_back(row.get<1>());
    return out;
}

} // namespace

TEST_CASE("rows are kept in uuid order whatever order the guests come in", "[dbus][rows]") {
    GuestRows rows;
    rows.add(guest("c", "cc", 3), "/p/cc");
    rows.add(guest("a", "aa", 1), "/p/aa");
    rows.add(guest("b", "bb", 2), "/p/bb");
    CHECK(uuids(rows) == std::vector<std::string>{"aa", "bb", "cc"});
    const auto& b = rows.rows()[1];
    CHECK(b.get<0>() == "b");
    CHECK(b.get<2>() == "unmanaged");
    CHECK(b.get<3>() == 2u);
    CHECK(b.get<4>() == 0u);
    CHECK(std::string(b.get<5>()) == "/p/bb");
}

TEST_CASE("a listed field's change shows in the row; others leave it alone", "[dbus][rows]") {
    GuestRows rows;
    GuestView g = guest("alpha", "aa", 5);
    rows.add(g, "/p/aa");

    g.state = GuestState::Running;
    g.stubDomid = 6;
    rows.change(g, FieldState | FieldStubDomId);
    CHECK(rows.rows()[0].get<2>() == "running");
    CHECK(rows.rows()[0].get<4>() == 6u);

    g.name = "renamed";
    rows.change(g, FieldName);
    CHECK(rows.rows()[0].get<0>() == "renamed");

    // A display port is not listed: the fields say so, and the row is not touched
    // (the name below would show if it were).
    GuestView unlisted = g;
    unlisted.name = "not-this";
    unlisted.displayPort = 5901;
    rows.change(unlisted, FieldDisplayPort);
    CHECK(rows.rows()[0].get<0>() == "renamed");
}

TEST_CASE("removal drops exactly that row; unknown uuids are ignored", "[dbus][rows]") {
    GuestRows rows;
    rows.add(guest("a", "aa", 1), "/p/aa");
    rows.add(guest("b", "bb", 2), "/p/bb");
    rows.add(guest("c", "cc", 3), "/p/cc");
    rows.remove("bb");
    CHECK(uuids(rows) == std::vector<std::string>{"aa", "cc"});
    rows.remove("zz");
    rows.change(guest("z", "zz", 9), FieldName);
    CHECK(uuids(rows) == std::vector<std::string>{"aa", "cc"});
    rows.remove("aa");
    rows.remove("cc");
    CHECK(rows.rows().empty());
}

TEST_CASE("a uuid added twice keeps one row with the latest view", "[dbus][rows]") {
    GuestRows rows;
    rows.add(guest("a", "aa", 1), "/p/aa");
    rows.add(guest("a2", "aa", 4), "/p/aa");
    REQUIRE(rows.rows().size() == 1);
    CHECK(rows.rows()[0].get<0>() == "a2");
    CHECK(rows.rows()[0].get<3>() == 4u);
}
