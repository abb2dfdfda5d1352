// PV guests' xl configs read with libxlutil for the PV-GRUB check.
#include "TempDir.hpp"
#include "xen/PvGrubConfigReader.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using stubdomd::test::TempDir;

TEST_CASE("the README's PV-GRUB lines are read as written", "[pvgrub][xl]") {
    auto config = parsePvGuestConfig("name = \"pvguest\"\n"
                                     "kernel = \"/usr/lib/xen/boot/pv-grub.gz\"\n"
                                     "extra = \"(hd0,0)/boot/grub/menu.lst\"\n"
                                     "memory = 256\n",
                                     "/etc/xen/pvguest.cfg");
    CHECK(config.name == "pvguest");
    CHECK(config.type == "pv");
    CHECK(config.kernel == "/usr/lib/xen/boot/pv-grub.gz");
    CHECK(config.extra == "(hd0,0)/boot/grub/menu.lst");
    CHECK(config.lines.at("extra") == 3);
    CHECK(pvgrub::effectiveCmdline(config) == "(hd0,0)/boot/grub/menu.lst");
}

TEST_CASE("xl's type, builder and command-line rules", "[pvgrub][xl]") {
    CHECK(parsePvGuestConfig("type = \"hvm\"\n", "f").type == "hvm");
    CHECK(parsePvGuestConfig("builder = \"hvm\"\n", "f").type == "hvm");
    CHECK(parsePvGuestConfig("builder = \"generic\"\n", "f").type == "pv");
    CHECK(parsePvGuestConfig("type = \"pvh\"\n", "f").type == "pvh");

    auto both = parsePvGuestConfig("root = \"/dev/xvda1\"\nextra = \"(nd)/m.lst\"\n", "f");
    CHECK(pvgrub::effectiveCmdline(both) == "root=/dev/xvda1 (nd)/m.lst");
    auto cmdline = parsePvGuestConfig("cmdline = \"(nd)/a\"\nextra = \"(nd)/b\"\n", "f");
    CHECK(pvgrub::effectiveCmdline(cmdline) == "(nd)/a");
    auto empty = parsePvGuestConfig("extra = \"\"\n", "f");
    CHECK(pvgrub::effectiveCmdline(empty) == "");
    CHECK_FALSE(pvgrub::effectiveCmdline(parsePvGuestConfig("name = \"x\"\n", "f")));
}

TEST_CASE("syntax errors are libxlutil's, with the file and line", "[pvgrub][xl]") {
    CHECK_THROWS_WITH(parsePvGuestConfig("kernel = \"/k\"\nextra = = \"x\"\n", "/etc/xen/g.cfg"),
                      Catch::StartsWith("/etc/xen/g.cfg:2: config parsing error near `='"));
    CHECK_THROWS_WITH(parsePvGuestConfig("name = \"g\"\nkernel = [ \"a\" ]\n", "/etc/xen/g.cfg"),
                      "/etc/xen/g.cfg:2: 'kernel' must be a string, got a list");
    CHECK_THROWS_WITH(parsePvGuestConfig("type = \"pvm\"\n", "/etc/xen/g.cfg"),
                      "/etc/xen/g.cfg:1: 'type' must be pv, pvh or hvm, got \"pvm\"");
}

TEST_CASE("files: missing, not regular, too large", "[pvgrub][xl]") {
    TempDir dir;
    CHECK_THROWS_WITH(readPvGuestConfig(dir.path() + "/none.cfg"),
                      "cannot read " + dir.path() + "/none.cfg: No such file or directory");
    CHECK_THROWS_WITH(readPvGuestConfig(dir.path()),
                      "cannot read " + dir.path() + ": not a regular file");
    const std::string big = dir.write("big.cfg", std::string(2 * 1024 * 1024, '#'));
    CHECK_THROWS_WITH(readPvGuestConfig(big), Catch::Contains("larger than"));
    auto config = readPvGuestConfig(dir.write("g.cfg", "kernel = \"/k\"\n"));
    CHECK(config.source == dir.path() + "/g.cfg");
}
