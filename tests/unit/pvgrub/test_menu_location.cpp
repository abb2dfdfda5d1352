// The menu location of PV-GRUB's `extra`: each accepted form, and each malformed one
// refused with the column of the error.
#include "core/PvGrub.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd::pvgrub;

namespace {

// The column and message of the refusal of `extra`.
std::pair<std::size_t, std::string> refusal(const std::string& extra) {
    try {
        parseMenuLocation(extra);
    } catch (const MenuSyntaxError& e) {
        return {e.column(), e.what()};
    }
    FAIL("accepted: " << extra);
    return {};
}

} // namespace

TEST_CASE("the README's menu locations are accepted as written", "[pvgrub][menu]") {
    MenuLocation disk = parseMenuLocation("(hd0,0)/boot/grub/menu.lst");
    CHECK(disk.source == MenuSource::Disk);
    CHECK(disk.disk == 0);
    CHECK(disk.partition == 0u);
    CHECK(disk.path == "/boot/grub/menu.lst");
    CHECK(describe(disk) == "partition 0 of disk hd0, /boot/grub/menu.lst");

    MenuLocation tftp = parseMenuLocation("(nd)/somepath/menu.lst");
    CHECK(tftp.source == MenuSource::Network);
    CHECK(tftp.path == "/somepath/menu.lst");
    CHECK(describe(tftp) == "TFTP (PV-GRUB does DHCP), /somepath/menu.lst");

    MenuLocation dhcp = parseMenuLocation("");
    CHECK(dhcp.source == MenuSource::Dhcp);
    CHECK(describe(dhcp) == "the path given by the DHCP server (option 150)");
}

TEST_CASE("a whole disk and higher disk and partition numbers", "[pvgrub][menu]") {
    MenuLocation whole = parseMenuLocation("(hd1)/menu.lst");
    CHECK(whole.disk == 1);
    CHECK_FALSE(whole.partition);
    CHECK(describe(whole) == "disk hd1 (no partition), /menu.lst");
    MenuLocation high = parseMenuLocation("(hd12,255)/grub/menu.lst");
    CHECK(high.disk == 12);
    CHECK(high.partition == 255u);
}

TEST_CASE("malformed menu locations are refused with the column of the error", "[pvgrub][menu]") {
    struct Case {
        const char* extra;
        std::size_t column;
        const char* says;
    };
    const Case cases[] = {
        {"/boot/grub/menu.lst", 1, "starts with the device"},
        {"hd0,0)/boot/grub/menu.lst", 1, "starts with the device"},
        {"(fd0)/menu.lst", 2, "unknown device 'fd0'"},
        {"(sda1)/boot/grub/menu.lst", 2, "unknown device 'sda1'"},
        {"()/menu.lst", 2, "expected a device name"},
        {"(hd)/menu.lst", 4, "expected the disk number"},
        {"(hdx,0)/menu.lst", 2, "unknown device 'hdx'"},
        {"(hd0,)/menu.lst", 6, "expected a partition number"},
        {"(hd0,a)/menu.lst", 6, "expected a partition number"},
        {"(hd0,0/boot/grub/menu.lst", 7, "expected ')' after the partition number"},
        {"(hd0;0)/menu.lst", 5, "expected ',' and a partition number, or ')'"},
        {"(hd0,0,a)/menu.lst", 7, "expected ')' after the partition number"},
        {"(hd256)/menu.lst", 4, "disk number too large"},
        {"(hd0,300)/menu.lst", 6, "partition number too large"},
        {"(nd/menu.lst", 4, "expected ')' after (nd"},
        {"(hd0,0)", 8, "expected the menu file's path"},
        {"(nd)", 5, "expected the menu file's path"},
        {"(hd0,0)boot/grub/menu.lst", 8, "must start with '/'"},
        {"(hd0,0)/boot/grub/", 18, "names a directory"},
        {"(hd0,0)/boot/my menu.lst", 16, "a space in the menu path"},
        {"(hd0,0)/boot/\"menu.lst", 14, "quotes and backslashes"},
        {"(hd0,0)/boot/menu\t.lst", 18, "a space in the menu path"},
        {" (hd0,0)/boot/grub/menu.lst", 1, "starts with the device"},
    };
    for (const Case& c : cases) {
        INFO(c.extra);
        auto [column, message] = refusal(c.extra);
        CHECK(column == c.column);
        CHECK_THAT(message, Catch::Contains(c.says));
        CHECK_THAT(message, Catch::Contains("column " + std::to_string(c.column)));
    }
}

TEST_CASE("the refusal quotes the value and marks an error at its end", "[pvgrub][menu]") {
    auto [column, message] = refusal("(hd0,0");
    CHECK(column == 7);
    CHECK(message == "extra \"(hd0,0\": column 7 (the end): expected ')' after the partition "
                     "number");
}

TEST_CASE("a menu location error is an InvalidConfig error", "[pvgrub][menu]") {
    try {
        parseMenuLocation("menu.lst");
        FAIL("accepted");
    } catch (const stubdomd::Error& e) {
        CHECK(e.code() == stubdomd::ErrorCode::InvalidConfig);
    }
}

TEST_CASE("a menu location longer than Xen passes to a guest is refused, quoted in part",
          "[pvgrub][menu]") {
    auto [column, message] = refusal("(hd0,0)/" + std::string(1 << 20, 'm'));
    CHECK(column == 1024);
    CHECK(message.find("at most 1023") != std::string::npos);
    CHECK(message.size() < 1024);
    // The longest Xen keeps is still a menu location.
    CHECK(parseMenuLocation("(hd0,0)/" + std::string(1023 - 8, 'm')).path.size() == 1016);
}
