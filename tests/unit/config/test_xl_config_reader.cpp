// Stub-domain configs (<xen config dir>/stubdom-<guest>) read with libxlutil.
#include "core/Errors.hpp"
#include "core/Log.hpp"
#include "xen/GuestConfigReader.hpp"
#include "xen/PvGrubConfigReader.hpp"
#include "xen/XlConfigReader.hpp"

#include "InvalidConfig.hpp"
#include "TempDir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace stubdomd;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;
using Catch::Matchers::StartsWith;

namespace {

const std::string kData = STUBDOMD_TEST_DATA;
const std::string kSource = "/etc/xen/stubdom-g";

// The InvalidConfig message of parsing `text` as kSource.
std::string errorOf(const std::string& text) {
    return test::invalidConfigMessage([&] { XlConfigReader::parse(text, kSource, "g"); }, text);
}

// Collects log lines while alive.
class LogCapture {
public:
    LogCapture() {
        previous_ =
            setLogSink([this](LogLevel level, const LogFields& fields, const std::string& message) {
                lines.push_back({level, fields.guestName, message});
            });
    }
    ~LogCapture() { setLogSink(previous_); }
    struct Line {
        LogLevel level;
        std::string guest;
        std::string message;
    };
    std::vector<Line> lines;

private:
    LogSink previous_;
};

} // namespace

TEST_CASE("the README's stubdom-hvmconfig gives the README's spec", "[xlconfig]") {
    XlConfigReader reader(kData);
    const auto spec = reader.load("hvmconfig");
    REQUIRE(spec);
    CHECK(spec->sourceFile == kData + "/stubdom-hvmconfig");
    CHECK(spec->kernel == "/usr/lib/xen/boot/ioemu-stubdom.gz");
    CHECK_FALSE(spec->ramdisk);
    CHECK_FALSE(spec->memoryMiB);
    CHECK(spec->vifs == std::vector<std::string>{"", "ip=10.0.1.1,mac=aa:00:00:12:23:34"});
    CHECK(spec->disks == std::vector<std::string>{"file:/tmp/install.iso,hdc:cdrom,r",
                                                  "phy:/dev/sda6,hda,w", "file:/tmp/test,hdb,r"});
    CHECK(spec->vfbs.empty());
    CHECK(spec->flavour == Flavour::Ioemu);
}

TEST_CASE("a guest without a stub config has none", "[xlconfig]") {
    XlConfigReader reader(kData);
    CHECK_FALSE(reader.load("no-such-guest"));
}

TEST_CASE("every stub-config key is read", "[xlconfig]") {
    const StubSpec spec = XlConfigReader::parse("kernel = '/k'\n"
                                                "ramdisk = \"/r\"\n"
                                                "memory = 160\n"
                                                "vif = [ 'ip=172.30.206.1' ]\n"
                                                "vfb = [ 'type=vnc', 'type=sdl' ]\n"
                                                "flavour = 'linux'\n",
                                                kSource);
    CHECK(spec.sourceFile == kSource);
    CHECK(spec.kernel == "/k");
    CHECK(spec.ramdisk == "/r");
    CHECK(spec.memoryMiB == 160u);
    CHECK(spec.vifs == std::vector<std::string>{"ip=172.30.206.1"});
    CHECK(spec.disks.empty());
    CHECK(spec.vfbs == std::vector<std::string>{"type=vnc", "type=sdl"});
    CHECK(spec.flavour == Flavour::Linux);
}

TEST_CASE("xl semantics: the last assignment wins, += appends, ; separates", "[xlconfig]") {
    const StubSpec spec = XlConfigReader::parse(
        "memory = 16; memory = \"24\"\nvif = [ '' ]\nvif += [ 'b' ]\n", kSource);
    CHECK(spec.memoryMiB == 24u);
    CHECK(spec.vifs == std::vector<std::string>{"", "b"});
}

TEST_CASE("a syntax error gives libxlutil's file:line message", "[xlconfig]") {
    const std::string file = kData + "/stubdom-syntax-error";
    try {
        XlConfigReader::readFile(file);
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::InvalidConfig);
        CHECK_THAT(e.what(), StartsWith(file + ":3: config parsing error near"));
        CHECK_THAT(std::string(e.what()), !Contains("\n"));
    }
    SECTION("through load(), named after the guest") {
        XlConfigReader reader(kData);
        CHECK_THROWS_WITH(reader.load("syntax-error"), StartsWith(file + ":3: "));
    }
    SECTION("an error at the end of a line is reported against the line before, as xl does") {
        // libxlutil 4.17 counts the newline token's line twice; we pass its text through
        // unchanged so that stubdomd and xl agree.
        CHECK_THAT(errorOf("kernel = '/k'\nmemory =\nvif = [ '' ]\n"),
                   StartsWith(kSource + ":1: config parsing error near <newline>"));
    }
    SECTION("a lexical error") {
        CHECK_THAT(errorOf("kernel = '/k'\nvif = [ '' ]\nKernel = '/x'\n"),
                   StartsWith(kSource + ":3: config parsing error near `Kernel"));
    }
    SECTION("python, which xm configs sometimes were") {
        CHECK_THAT(errorOf("import os\nkernel = os.path.join('/a', 'b')\n"), Contains("Python"));
    }
}

TEST_CASE("wrong values are errors naming file, line and key", "[xlconfig]") {
    const std::string sizes = "must be a size in MiB, plainly or with a unit (500, \"500M\", "
                              "\"512MiB\", \"1G\"), got ";
    CHECK_THAT(errorOf("kernel = '/k'\nmemory = 'lots'\n"),
               Equals(kSource + ":2: 'memory' " + sizes + "\"lots\""));
    CHECK_THAT(errorOf("memory = 0\n"), Equals(kSource + ":1: 'memory' " + sizes + "\"0\""));
    CHECK_THAT(errorOf("memory = [ 32 ]\n"),
               Equals(kSource + ":1: 'memory' must be a string, got a list"));
    CHECK_THAT(errorOf("\n\n\nflavour = 'pv'\n"),
               Equals(kSource + ":4: 'flavour' must be 'ioemu' or 'linux', got \"pv\""));
    CHECK_THAT(errorOf("flavour = 'pv-grub'\n"),
               Equals(kSource + ":1: 'flavour' must be 'ioemu' or 'linux', got \"pv-grub\""));
    CHECK_THAT(errorOf("kernel = [ '/k' ]\n"),
               Equals(kSource + ":1: 'kernel' must be a string, got a list"));
    CHECK_THAT(errorOf("kernel = ''\n"), Equals(kSource + ":1: 'kernel' must not be empty"));
    CHECK_THAT(errorOf("vif = 'ip=1.2.3.4'\n"),
               Equals(kSource + ":1: 'vif' must be a list, e.g. vif = [ '...' ]"));
    CHECK_THAT(errorOf("vfb = [ 'type=vnc', [ 'x' ] ]\n"),
               Equals(kSource + ":1: 'vfb' entry 2 must be a string, got a list"));
}

TEST_CASE("each disk is checked as xl would, and a bad one is named", "[xlconfig]") {
    const std::string message = errorOf("kernel = '/k'\n"
                                        "disk = [ 'phy:/dev/sda6,hda,w',\n"
                                        "         'file:/tmp/x,hdb,w,frobnicate' ]\n");
    CHECK_THAT(message, StartsWith(kSource + ":2: bad disk entry 2 'file:/tmp/x,hdb,w,frobnicate': "
                                             "config parsing error in disk specification"));
    CHECK_THAT(errorOf("disk = [ 'file:/tmp/x' ]\n"),
               StartsWith(kSource + ":1: bad disk entry 1 'file:/tmp/x': "));
    CHECK_THAT(errorOf("disk = [ 'file:/tmp/x' ]\n"), Contains("vdev"));
}

TEST_CASE("unknown keys are logged with file, line and key, and ignored", "[xlconfig]") {
    LogCapture log;
    const StubSpec spec = XlConfigReader::parse(
        "kernel = '/k'\nname = 'x'\n# builder = 'hvm'\nbuilder = 'hvm'\n", kSource, "g");
    CHECK(spec.kernel == "/k");
    REQUIRE(log.lines.size() == 2);
    CHECK(log.lines[0].level == LogLevel::Warning);
    CHECK(log.lines[0].guest == "g");
    CHECK_THAT(log.lines[0].message, StartsWith(kSource + ":4: unknown key 'builder' ignored"));
    CHECK_THAT(log.lines[1].message, StartsWith(kSource + ":2: unknown key 'name' ignored"));
}

TEST_CASE("keys inside strings and comments are not keys", "[xlconfig]") {
    LogCapture log;
    XlConfigReader::parse("kernel = \"/a b = c\" # extra = 1\n"
                          "vif = [ 'x', \"it\\\"s y = 2\",\n 0x1f ]\n",
                          kSource);
    CHECK(log.lines.empty());
}

TEST_CASE("guest names are checked before they build a path", "[xlconfig]") {
    CHECK(isValidGuestName("hvmconfig"));
    CHECK(isValidGuestName("win 10 (test)"));
    CHECK_FALSE(isValidGuestName(""));
    CHECK_FALSE(isValidGuestName("."));
    CHECK_FALSE(isValidGuestName(".."));
    CHECK_FALSE(isValidGuestName("../../etc/passwd"));
    CHECK_FALSE(isValidGuestName("a/b"));
    CHECK_FALSE(isValidGuestName("a\nb"));
    CHECK_FALSE(isValidGuestName(std::string("a\0b", 3)));
    CHECK_FALSE(isValidGuestName(std::string(248, 'a')));
    CHECK(isValidGuestName(std::string(247, 'a')));

    XlConfigReader reader("/etc/xen");
    CHECK(reader.pathFor("hvmconfig") == "/etc/xen/stubdom-hvmconfig");
    CHECK(XlConfigReader("/etc/xen/").pathFor("g") == "/etc/xen/stubdom-g");
    try {
        reader.load("../secret");
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::InvalidConfig);
        CHECK_THAT(e.what(), Equals("guest name '../secret' cannot name a stub-domain config "
                                    "file in /etc/xen"));
    }
}

TEST_CASE("unreadable stub configs are errors naming the file", "[xlconfig]") {
    test::TempDir dir;
    XlConfigReader reader(dir.path());
    SECTION("a directory") {
        const std::string path = dir.path() + "/stubdom-d";
        REQUIRE(::mkdir(path.c_str(), 0755) == 0);
        CHECK_THROWS_WITH(reader.load("d"), "cannot read " + path + ": not a regular file");
    }
    SECTION("the config dir is a file") {
        const std::string file = dir.write("notadir", "");
        CHECK_THROWS_WITH(XlConfigReader(file).load("g"),
                          "cannot read " + file + "/stubdom-g: Not a directory");
    }
    SECTION("no permission") {
        if (::geteuid() == 0)
            return; // root reads anything; covered when run unprivileged
        const std::string file = dir.write("stubdom-secret", "kernel = '/k'\n");
        ::chmod(file.c_str(), 0);
        CHECK_THROWS_WITH(reader.load("secret"), "cannot read " + file + ": Permission denied");
    }
    SECTION("readFile of a missing file") {
        CHECK_THROWS_WITH(XlConfigReader::readFile(dir.path() + "/none"),
                          "cannot read " + dir.path() + "/none: No such file or directory");
    }
}

TEST_CASE("an empty stub config is valid: everything from the defaults", "[xlconfig]") {
    test::TempDir dir;
    dir.write("stubdom-empty", "# nothing\n");
    const auto spec = XlConfigReader(dir.path()).load("empty");
    REQUIRE(spec);
    CHECK_FALSE(spec->kernel);
    CHECK(spec->vifs.empty());
}

TEST_CASE("the flavour comes from the file, the images' names or the reader's default",
          "[xlconfig][linux]") {
    CHECK(XlConfigReader::parse("", kSource).flavour == Flavour::Ioemu);
    CHECK(XlConfigReader::parse("", kSource, "g", Flavour::Linux).flavour == Flavour::Linux);
    CHECK(XlConfigReader::parse("flavour = \"ioemu\"\n", kSource, "g", Flavour::Linux).flavour ==
          Flavour::Ioemu);

    const StubSpec byKernel = XlConfigReader::parse(
        "stubdomain_kernel = \"/usr/lib/xen/boot/qemu-stubdom-linux-kernel\"\n"
        "stubdomain_ramdisk = \"/usr/lib/xen/boot/qemu-stubdom-linux-rootfs\"\n",
        kSource);
    CHECK(byKernel.flavour == Flavour::Linux);
    CHECK(byKernel.kernel == "/usr/lib/xen/boot/qemu-stubdom-linux-kernel");
    CHECK(byKernel.ramdisk == "/usr/lib/xen/boot/qemu-stubdom-linux-rootfs");
    CHECK(
        XlConfigReader::parse("ramdisk = \"/opt/qemu-stubdom-linux-rootfs\"\n", kSource).flavour ==
        Flavour::Linux);
    CHECK(XlConfigReader::parse("kernel = \"/usr/lib/xen/boot/ioemu-stubdom.gz\"\n", kSource, "g",
                                Flavour::Linux)
              .flavour == Flavour::Ioemu);
}

TEST_CASE("a stub config that names two flavours or a third one is refused with its line",
          "[xlconfig][linux]") {
    CHECK_THAT(errorOf("memory = 64\nflavour = \"qemu\"\n"),
               Equals(kSource + ":2: 'flavour' must be 'ioemu' or 'linux', got \"qemu\""));
    CHECK_THAT(errorOf("flavour = \"ioemu\"\n"
                       "kernel = \"/usr/lib/xen/boot/qemu-stubdom-linux-kernel\"\n"),
               Equals(kSource + ":1: 'flavour' is \"ioemu\", but 'kernel' "
                                "\"/usr/lib/xen/boot/qemu-stubdom-linux-kernel\" is the linux "
                                "stub domain's"));
    CHECK_THAT(errorOf("kernel = \"/usr/lib/xen/boot/ioemu-stubdom.gz\"\n"
                       "\n"
                       "ramdisk = \"/usr/lib/xen/boot/qemu-stubdom-linux-rootfs\"\n"),
               Equals(kSource + ":3: 'ramdisk' \"/usr/lib/xen/boot/qemu-stubdom-linux-rootfs\" "
                                "is the linux stub domain's, but 'kernel' "
                                "\"/usr/lib/xen/boot/ioemu-stubdom.gz\" is the ioemu stub "
                                "domain's"));
    CHECK_THAT(errorOf("kernel = \"/a\"\nstubdomain_kernel = \"/b\"\n"),
               Equals(kSource + ":2: 'stubdomain_kernel' and 'kernel' (" + kSource +
                      ":1) say the same thing; keep one"));
}

TEST_CASE("disk entries are kept as the Linux stub's qemu needs them", "[xlconfig][linux]") {
    const StubSpec spec = XlConfigReader::parse(
        "disk = [ 'phy:/dev/vg/a,hda,w', 'file:/tmp/i.iso,hdc:cdrom,r', ',hdd:cdrom,r', "
        "'file:/tmp/b,xvdb,r' ]\n",
        kSource);
    REQUIRE(spec.diskDevices.size() == 4);
    CHECK(spec.diskDevices[0].vdev == "hda");
    CHECK(spec.diskDevices[0].readwrite);
    CHECK_FALSE(spec.diskDevices[0].cdrom);
    CHECK(spec.diskDevices[1].vdev == "hdc");
    CHECK(spec.diskDevices[1].cdrom);
    CHECK_FALSE(spec.diskDevices[1].empty);
    CHECK(spec.diskDevices[2].cdrom);
    CHECK(spec.diskDevices[2].empty);
    CHECK(spec.diskDevices[3].vdev == "xvdb");
    CHECK_FALSE(spec.diskDevices[3].readwrite);
}

// Found by the stub-config fuzzer: libxlutil 4.17 assert()s on a NUL byte inside a quoted
// string, which aborted the daemon. All three readers: stub configs, guests' own configs
// (display keys) and PV guests' configs, which PvGrubCheck reads from a path a caller names.
TEST_CASE("a NUL byte in a config is refused with its line, before libxlutil sees it",
          "[config][xl]") {
    const std::string text("memory = 64\nkernel = \"/usr/lib/x\0en\"\n", 37);
    CHECK_THAT(errorOf(text), Equals("/etc/xen/stubdom-g:2: a NUL byte; an xl config is text"));
    try {
        parsePvGuestConfig(text, "/etc/xen/pv.cfg");
        FAIL("a NUL byte was taken");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::InvalidConfig);
        CHECK_THAT(e.what(), Equals("/etc/xen/pv.cfg:2: a NUL byte; an xl config is text"));
    }
    try {
        GuestConfigReader::parse(text, "/etc/xen/g");
        FAIL("a NUL byte was taken");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::InvalidConfig);
        CHECK_THAT(e.what(), Equals("/etc/xen/g:2: a NUL byte; an xl config is text"));
    }
}

namespace {
StubSpec parse(const std::string& text) {
    return XlConfigReader::parse(text, kSource, "g");
}
} // namespace

TEST_CASE("stubdomain_memory takes a unit, and the flavour's minimum", "[xlconfig]") {
    CHECK(parse("stubdomain_memory = \"500M\"\n").memoryMiB == 500u);
    CHECK(parse("stubdomain_memory = \"512MiB\"\n").memoryMiB == 512u);
    CHECK(parse("stubdomain_memory = \"1G\"\n").memoryMiB == 1024u);
    CHECK(parse("stubdomain_memory = 300\n").memoryMiB == 300u);
    CHECK(parse("memory = \"64 MB\"\n").memoryMiB == 64u);
    CHECK_THAT(errorOf("\nstubdomain_memory = \"500Q\"\n"),
               StartsWith(kSource + ":2: 'stubdomain_memory' must be a size in MiB"));
    CHECK_THAT(errorOf("stubdomain_memory = \"1000K\"\n"), Contains("got \"1000K\""));
    CHECK_THAT(
        errorOf("flavour = 'linux'\nstubdomain_memory = \"64M\"\n"),
        Equals(kSource +
               ":2: 'stubdomain_memory' is 64 MiB; the linux stub domain needs at least 128 MiB"));
    CHECK_THAT(
        errorOf("memory = 8\n"),
        Equals(kSource + ":1: 'memory' is 8 MiB; the ioemu stub domain needs at least 16 MiB"));
    CHECK_THAT(errorOf("memory = 64\nstubdomain_memory = \"64M\"\n"), Contains("keep one"));
}
