// stubdom-dm's parser against the command lines the toolstacks really build for a
// qemu-traditional device model (libxl_dm.c's old-style arguments, xend's image.py).
#include "DmArgs.hpp"

#include <catch2/catch.hpp>

using stubdom::dm::parseDmArgs;
using stubdom::dm::UsageError;

TEST_CASE("libxl's qemu-traditional arguments give the domid and name", "[dm-args]") {
    auto args = parseDmArgs({"-d",
                             "5",
                             "-domain-name",
                             "hvmconfig",
                             "-videoram",
                             "8",
                             "-vnc",
                             "127.0.0.1:0,password",
                             "-vncunused",
                             "-k",
                             "en-us",
                             "-serial",
                             "pty",
                             "-boot",
                             "c",
                             "-acpi",
                             "-vcpus",
                             "2",
                             "-vcpu_avail",
                             "0x3",
                             "-net",
                             "nic,vlan=0,macaddr=00:16:3e:00:00:01,model=rtl8139",
                             "-net",
                             "tap,vlan=0,ifname=vif5.0-emu,bridge=xenbr0,script=no",
                             "-M",
                             "xenfv"});
    CHECK(args.domid == 5);
    CHECK(args.domainName == "hvmconfig");
    CHECK(args.display.vnc == "127.0.0.1:0");
    CHECK(args.display.vncPassword);
    CHECK(args.display.vncUnused);
    CHECK(args.display.keymap == "en-us");
    CHECK(args.display.videoramMiB == 8u);
    CHECK_FALSE(args.help);
}

TEST_CASE("xend's arguments, with sdl and monitor and disks", "[dm-args]") {
    auto args = parseDmArgs({"-d",
                             "12",
                             "-domain-name",
                             "winxp",
                             "-videoram",
                             "4",
                             "-sdl",
                             "-k",
                             "de",
                             "-monitor",
                             "null",
                             "-serial",
                             "pty",
                             "-usb",
                             "-usbdevice",
                             "tablet",
                             "-localtime",
                             "-std-vga",
                             "-soundhw",
                             "sb16",
                             "-hda",
                             "/dev/vg/winxp",
                             "-cdrom",
                             "/isos/xp.iso",
                             "-gfx_passthru",
                             "-M",
                             "xenfv"});
    CHECK(args.domid == 12);
    CHECK(args.domainName == "winxp");
    CHECK(args.display.sdl);
    CHECK_FALSE(args.display.vnc);
    CHECK(args.display.keymap == "de");
}

TEST_CASE("unknown options are skipped with or without a value", "[dm-args]") {
    auto args = parseDmArgs(
        {"-fancy", "value", "-flag", "-d", "7", "-other", "-domain-name", "g", "-last"});
    CHECK(args.domid == 7);
    CHECK(args.domainName == "g");
    CHECK(args.ignored == std::vector<std::string>{"-fancy value", "-flag", "-other", "-last"});
}

TEST_CASE("a known option's value is consumed even when it looks like an option", "[dm-args]") {
    // "-serial" takes a value; a value that starts with '-' must not become an option.
    auto args = parseDmArgs({"-serial", "-d", "-d", "9"});
    CHECK(args.domid == 9);
}

TEST_CASE("upstream qemu's -xen-domid is accepted too", "[dm-args]") {
    auto args = parseDmArgs({"-xen-domid", "3", "-xen-attach", "-name", "g", "-nographic"});
    CHECK(args.domid == 3);
    CHECK(args.domainName == "g");
    CHECK(args.display.noGraphic);
}

TEST_CASE("a missing or bad domid is a usage error", "[dm-args]") {
    CHECK_THROWS_AS(parseDmArgs({}), UsageError);
    CHECK_THROWS_AS(parseDmArgs({"-domain-name", "g"}), UsageError);
    CHECK_THROWS_AS(parseDmArgs({"-d"}), UsageError);
    CHECK_THROWS_AS(parseDmArgs({"-d", "five"}), UsageError);
    CHECK_THROWS_AS(parseDmArgs({"-d", "0"}), UsageError);     // dom0
    CHECK_THROWS_AS(parseDmArgs({"-d", "32752"}), UsageError); // DOMID_FIRST_RESERVED
    CHECK_THROWS_AS(parseDmArgs({"-d", "99999999999"}), UsageError);
    CHECK_THROWS_AS(parseDmArgs({"-d", "5", "-videoram", "x"}), UsageError);
    CHECK_THROWS_WITH(parseDmArgs({"-domain-name", "g"}),
                      "missing -d DOMID (the HVM guest's domain id)");
}

TEST_CASE("help needs no domid", "[dm-args]") {
    CHECK(parseDmArgs({"--help"}).help);
    CHECK(parseDmArgs({"-h"}).help);
}
