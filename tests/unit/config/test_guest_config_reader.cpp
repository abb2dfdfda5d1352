// A guest's own xl config, read for its display keys only (GuestConfigReader).
#include "core/Errors.hpp"
#include "xen/GuestConfigReader.hpp"

#include "InvalidConfig.hpp"
#include "TempDir.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace stubdomd;
using Catch::Matchers::Equals;
using test::TempDir;

namespace {

const std::string kSource = "/etc/xen/hvmconfig";

std::string errorOf(const std::string& text) {
    return test::invalidConfigMessage([&] { GuestConfigReader::parse(text, kSource); }, text);
}

} // namespace

TEST_CASE("a guest config's display keys and the lines that set them", "[config][guest]") {
    const auto guest = GuestConfigReader::parse("# an HVM guest\n"
                                                "builder = 'hvm'\n"
                                                "vnc = 1\n"
                                                "vnclisten = \"0.0.0.0\"\n"
                                                "vncdisplay = 3 # :3\n"
                                                "vncunused = 0\n"
                                                "keymap = 'de'\n"
                                                "videoram = 16\n"
                                                "vncpasswd = 's3cret'\n",
                                                kSource);
    CHECK(guest.source == kSource);
    CHECK(guest.vnc == true);
    CHECK_FALSE(guest.sdl);
    CHECK(guest.vncunused == false);
    CHECK(guest.vnclisten == "0.0.0.0");
    CHECK(guest.vncdisplay == 3u);
    CHECK(guest.keymap == "de");
    CHECK(guest.videoramMiB == 16u);
    CHECK(guest.vncpasswd == "s3cret");
    CHECK(guest.lines == std::map<std::string, int>{{"vnc", 3},
                                                    {"vnclisten", 4},
                                                    {"vncdisplay", 5},
                                                    {"vncunused", 6},
                                                    {"keymap", 7},
                                                    {"videoram", 8},
                                                    {"vncpasswd", 9}});
    CHECK(guest.where("vncdisplay") == kSource + ":5");
}

TEST_CASE("a key named in a comment or a string has no line", "[config][guest]") {
    const auto guest =
        GuestConfigReader::parse("# vnc = 1 was here\nname = 'vnc = 0'\nsdl = 1\n", kSource);
    CHECK_FALSE(guest.vnc);
    CHECK(guest.sdl == true);
    CHECK(guest.lines == std::map<std::string, int>{{"sdl", 3}});
}

TEST_CASE("a guest config's wrong values name file, line and key", "[config][guest]") {
    CHECK_THAT(errorOf("memory = 512\nvncdisplay = 'one'\n"),
               Equals(kSource + ":2: 'vncdisplay' must be a number, got \"one\""));
    CHECK_THAT(errorOf("videoram = 70000\n"),
               Equals(kSource + ":1: 'videoram' must be a number, got \"70000\""));
    CHECK_THAT(errorOf("vnc = '-1'\n"), Equals(kSource + ":1: 'vnc' must be a number, got \"-1\""));
    CHECK_THAT(errorOf("\nkeymap = ['de']\n"),
               Equals(kSource + ":2: 'keymap' must be a string, got a list"));
}

TEST_CASE("a guest config with wrong syntax gets libxlutil's file:line message",
          "[config][guest]") {
    const auto message = errorOf("vnc = 1\nvnclisten = \n");
    CHECK_THAT(message, Catch::Matchers::StartsWith(kSource + ":"));
    CHECK_THAT(message, Catch::Matchers::Contains("syntax error"));
}

TEST_CASE("load finds <name> or <name>.cfg in the config dir, or nothing", "[config][guest]") {
    TempDir dir;
    GuestConfigReader reader(dir.path());
    CHECK_FALSE(reader.load("g"));
    std::ofstream(dir.path() + "/g.cfg") << "vnc = 1\n";
    auto found = reader.load("g");
    REQUIRE(found);
    CHECK(found->source == dir.path() + "/g.cfg");
    CHECK(found->vnc == true);
    std::ofstream(dir.path() + "/g") << "vnc = 0\n";
    found = reader.load("g");
    REQUIRE(found);
    CHECK(found->source == dir.path() + "/g");
    CHECK(found->vnc == false);
    CHECK_FALSE(reader.load("../g"));
}
