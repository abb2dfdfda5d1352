// The generated stub-domain config read back by libxlutil, the parser `xl create` uses:
// the strongest check that the writer's quoting is right, hostile values included.
#include "core/Errors.hpp"
#include "core/Log.hpp"
#include "core/StubConfigWriter.hpp"
#include "xen/XlConfigReader.hpp"

#include <catch2/catch.hpp>

// libxlutil.h has no extern "C" block of its own.
extern "C" {
#include <libxlutil.h>
}

#include <cerrno>
#include <cstdio>
#include <memory>
#include <vector>

using namespace stubdomd;

namespace {

struct ConfigDeleter {
    void operator()(XLU_Config* config) const { xlu_cfg_destroy(config); }
};

// One generated config as libxlutil sees it.
class Parsed {
public:
    explicit Parsed(const std::string& text)
        : report_(std::tmpfile(), &std::fclose), config_(xlu_cfg_init(report_.get(), "generated")) {
        REQUIRE(config_);
        INFO(text);
        REQUIRE(xlu_cfg_readdata(config_.get(), text.data(), static_cast<int>(text.size())) == 0);
    }

    std::optional<std::string> string(const char* key) const {
        const char* value = nullptr;
        const int error = xlu_cfg_get_string(config_.get(), key, &value, 1);
        if (error == ESRCH)
            return std::nullopt;
        REQUIRE(error == 0);
        return std::string(value);
    }

    long number(const char* key) const {
        long value = 0;
        REQUIRE(xlu_cfg_get_long(config_.get(), key, &value, 1) == 0);
        return value;
    }

    std::optional<std::vector<std::string>> list(const char* key) const {
        XLU_ConfigList* items = nullptr;
        int count = 0;
        const int error = xlu_cfg_get_list(config_.get(), key, &items, &count, 1);
        if (error == ESRCH)
            return std::nullopt;
        REQUIRE(error == 0);
        std::vector<std::string> result;
        for (int i = 0; i < count; ++i) {
            const char* item = xlu_cfg_get_listitem(items, i);
            REQUIRE(item);
            result.emplace_back(item);
        }
        return result;
    }

private:
    std::unique_ptr<FILE, int (*)(FILE*)> report_;
    std::unique_ptr<XLU_Config, ConfigDeleter> config_;
};

GuestIdentity guest(std::string name, DomId domid = 7) {
    GuestIdentity g;
    g.domid = domid;
    g.name = std::move(name);
    g.uuid = "00000000-0000-0000-0000-000000000001";
    return g;
}

// Every byte but NUL, in one string.
std::string allBytes() {
    std::string text;
    for (int c = 1; c < 256; ++c)
        text += static_cast<char>(c);
    return text;
}

// Silences the unknown-key warnings of reading a full config as a stub config.
class QuietLog {
public:
    QuietLog() : previous_(setLogSink([](LogLevel, const LogFields&, const std::string&) {})) {}
    ~QuietLog() { setLogSink(previous_); }

private:
    LogSink previous_;
};

} // namespace

TEST_CASE("every key of the generated config reads back through libxlutil", "[roundtrip]") {
    StubSpec spec;
    spec.sourceFile = "/etc/xen/stubdom-hvmconfig";
    spec.ramdisk = "/boot/initrd.gz";
    spec.memoryMiB = 40;
    spec.vifs = {"", "ip=10.0.1.1,mac=aa:00:00:12:23:34"};
    spec.disks = {"file:/tmp/install.iso,hdc:cdrom,r", "phy:/dev/sda6,hda,w"};
    spec.vfbs = {"type=sdl"};
    const Parsed parsed(writeStubConfig(guest("hvmconfig", 12), spec, Settings{}));
    CHECK(parsed.string("name") == "hvmconfig-dm");
    CHECK(parsed.string("type") == "pv");
    CHECK(parsed.string("kernel") == "/usr/lib/xen/boot/ioemu-stubdom.gz");
    CHECK(parsed.string("ramdisk") == "/boot/initrd.gz");
    CHECK(parsed.number("memory") == 40);
    CHECK(parsed.list("vif") == spec.vifs);
    CHECK(parsed.list("disk") == spec.disks);
    CHECK(parsed.list("vfb") == spec.vfbs);
    CHECK(parsed.string("extra") == "-d 12");
    CHECK(parsed.string("on_poweroff") == "destroy");
    CHECK(parsed.string("on_reboot") == "destroy");
    CHECK(parsed.string("on_crash") == "destroy");
}

TEST_CASE("the README's stub config survives read, write, read", "[roundtrip]") {
    QuietLog quiet;
    const auto original = XlConfigReader(STUBDOMD_TEST_DATA).load("hvmconfig");
    REQUIRE(original);
    const std::string text = writeStubConfig(guest("hvmconfig"), *original, Settings{});
    const StubSpec again = XlConfigReader::parse(text, "generated");
    CHECK(again.kernel == original->kernel);
    CHECK(again.memoryMiB == 32u); // the default, now explicit
    CHECK(again.vifs == original->vifs);
    CHECK(again.disks == original->disks);
    CHECK(again.vfbs == original->vfbs);
}

TEST_CASE("hostile values come back byte for byte and add no key", "[roundtrip]") {
    const std::string hostile = GENERATE(
        std::string("evil\"\non_crash = \"preserve"), std::string("back\\slash\\"),
        std::string("trailing\\"), std::string("quote'single"), std::string("hash # not a comment"),
        std::string("]\nextra = \"-d 0\"\n["), std::string("tab\there\rcr\a\b\f\v"),
        std::string("caf\xc3\xa9 \xe2\x98\x83"), std::string("\x01\x1b[31m\x7f"), allBytes());

    StubSpec spec;
    spec.sourceFile = "/etc/xen/stubdom-" + hostile;
    spec.kernel = hostile;
    spec.ramdisk = hostile;
    spec.vifs = {"", hostile};
    spec.disks = {hostile};
    spec.vfbs = {hostile, hostile};
    const std::string text = writeStubConfig(guest(hostile, 3), spec, Settings{});
    const Parsed parsed(text);
    CHECK(parsed.string("name") == hostile + "-dm");
    CHECK(parsed.string("kernel") == hostile);
    CHECK(parsed.string("ramdisk") == hostile);
    CHECK(parsed.list("vif") == spec.vifs);
    CHECK(parsed.list("disk") == spec.disks);
    CHECK(parsed.list("vfb") == spec.vfbs);
    // The keys a hostile value tries to set keep the writer's values.
    CHECK(parsed.string("on_crash") == "destroy");
    CHECK(parsed.string("extra") == "-d 3");
    CHECK(parsed.string("type") == "pv");
    CHECK(parsed.number("memory") == 32);
    CHECK_FALSE(parsed.string("preserve"));
}
