// a{sv} options: only documented keys, each of its documented type.
#include "dbus/server/Options.hpp"
#include "core/Errors.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using namespace stubdomd::dbus;
using Catch::Matchers::Contains;

namespace {
// The InvalidArgs message of checkOptions, or "" when the options pass.
std::string refusal(std::string_view method, const Options& options,
                    const std::vector<OptionSpec>& known) {
    try {
        checkOptions(method, options, known);
        return "";
    } catch (const Error& e) {
        REQUIRE(e.code() == ErrorCode::InvalidArgs);
        return e.what();
    }
}
} // namespace

TEST_CASE("an empty dictionary is always valid", "[dbus][options]") {
    CHECK(refusal("Start", {}, noOptions()).empty());
    CHECK(refusal("SetDisplay", {}, setDisplayOptions()).empty());
}

TEST_CASE("a method without options refuses any key, naming it", "[dbus][options]") {
    auto why = refusal("Start", {{"force", sdbus::Variant(true)}}, noOptions());
    CHECK_THAT(why, Contains("Start") && Contains("unknown option 'force'") &&
                        Contains("takes no options"));
}

TEST_CASE("known keys of the right type pass", "[dbus][options]") {
    Options options{{"address", sdbus::Variant(std::string("127.0.0.1"))},
                    {"port", sdbus::Variant(std::int32_t{5901})}};
    CHECK(refusal("SetDisplay", options, setDisplayOptions()).empty());
}

TEST_CASE("an unknown key is refused with the known ones listed", "[dbus][options]") {
    Options options{{"port", sdbus::Variant(std::int32_t{1})},
                    {"colour", sdbus::Variant(std::string("red"))}};
    auto why = refusal("SetDisplay", options, setDisplayOptions());
    CHECK_THAT(why, Contains("unknown option 'colour'") && Contains("address (s)") &&
                        Contains("port (i)"));
}

TEST_CASE("a known key of the wrong type is refused with both types", "[dbus][options]") {
    SECTION("a string for an int32") {
        auto why = refusal("SetDisplay", {{"port", sdbus::Variant(std::string("5901"))}},
                           setDisplayOptions());
        CHECK_THAT(why, Contains("option 'port'") && Contains("'i'") && Contains("not 's'"));
    }
    SECTION("a uint32 is not an int32") {
        auto why = refusal("SetDisplay", {{"port", sdbus::Variant(std::uint32_t{5901})}},
                           setDisplayOptions());
        CHECK_THAT(why, Contains("'i'") && Contains("not 'u'"));
    }
}

TEST_CASE("the first bad key in key order is the one reported", "[dbus][options]") {
    Options options{{"zzz", sdbus::Variant(true)}, {"aaa", sdbus::Variant(true)}};
    CHECK_THAT(refusal("Stop", options, noOptions()), Contains("'aaa'"));
}

TEST_CASE("SetDisplay's mode and options become the choice to store", "[dbus][options]") {
    const DisplayChoice choice =
        displayChoice("vnc-dom0", {{"address", sdbus::Variant(std::string("10.0.0.1"))},
                                   {"port", sdbus::Variant(std::int32_t{5901})},
                                   {"keymap", sdbus::Variant(std::string("de"))}});
    CHECK(choice.mode == DisplayMode::VncDom0);
    CHECK(choice.address == std::optional<std::string>("10.0.0.1"));
    CHECK(choice.port == std::optional<std::int32_t>(5901));
    CHECK(choice.keymap == std::optional<std::string>("de"));
    const DisplayChoice bare = displayChoice("none", {});
    CHECK(bare.mode == DisplayMode::None);
    CHECK_FALSE(bare.address);
    CHECK_FALSE(bare.port);
    CHECK_FALSE(bare.keymap);
}

TEST_CASE("SetDisplay refuses an unknown mode and bad options by name", "[dbus][options]") {
    try {
        displayChoice("vnc", {});
        FAIL("an unknown mode was taken");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::InvalidDisplay);
        CHECK_THAT(e.what(), Contains("unknown display mode 'vnc'"));
    }
    try {
        displayChoice("vnc-dom0", {{"port", sdbus::Variant(std::string("5901"))}});
        FAIL("a mistyped port was taken");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::InvalidArgs);
        CHECK_THAT(e.what(), Contains("option 'port' must be of type 'i'"));
    }
}

TEST_CASE("Start's stub-memory is read as a stub config writes it", "[dbus][options]") {
    auto mib = [](const std::string& text) {
        return startOptions("Start", {{"stub-memory", sdbus::Variant(text)}}).stubMemoryMiB;
    };
    CHECK(mib("500M") == 500u);
    CHECK(mib("1G") == 1024u);
    CHECK(mib("300") == 300u);
    CHECK(mib("524288K") == 512u);
    CHECK_FALSE(startOptions("Start", {}).stubMemoryMiB);
    try {
        mib("500Q");
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::InvalidArgs);
        CHECK_THAT(e.what(), Contains("Start: stub-memory \"500Q\" is not a memory size"));
    }
    CHECK_THAT(refusal("Restart", {{"stub-memory", sdbus::Variant(std::uint64_t{500})}},
                       startOptionKeys()),
               Contains("option 'stub-memory'") && Contains("not 't'"));
}
