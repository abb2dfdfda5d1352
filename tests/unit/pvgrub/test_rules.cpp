// The PV-GRUB rules over files the tests make: generating a configuration (image choice,
// bitness from --arch or a kernel, each mismatch, missing images) and checking one.
#include "KernelFiles.hpp"
#include "TempDir.hpp"
#include "pvgrub/KernelImage.hpp"
#include "pvgrub/PvGrubTool.hpp"
#include "xen/PvGrubConfigReader.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

#include <sys/stat.h>

using namespace stubdomd;
using namespace stubdomd::pvgrub;
using stubdomd::test::TempDir;

namespace {

// A host whose firmware dirs are temp dirs: nothing installed until a test says so.
struct Host {
    TempDir root;
    KernelFileAccess files;
    ImageDirs dirs;
    Rules rules;
    Host() : dirs{mkdir("xen-boot"), mkdir("grub-xen")}, rules(dirs, files) {}

    std::string mkdir(const std::string& name) {
        std::filesystem::create_directory(root.path() + "/" + name);
        return root.path() + "/" + name;
    }
    // The images as built: gzip'd ELF (Xen's) and plain ELF (GRUB 2's).
    void installAll() {
        install("xen-boot/pv-grub-x86_32.gz", test::gzip(test::elf32()));
        install("xen-boot/pv-grub-x86_64.gz", test::gzip(test::elf64()));
        install("grub-xen/grub-i386-xen.bin", test::elf32());
        install("grub-xen/grub-x86_64-xen.bin", test::elf64());
    }
    std::string install(const std::string& name, const std::string& content) {
        return root.write(name, content);
    }
    CheckReport check(const std::string& text) {
        return rules.check(parsePvGuestConfig(text, root.path() + "/guest.cfg"));
    }
};

std::string thrown(const std::function<void()>& f, ErrorCode code) {
    try {
        f();
    } catch (const Error& e) {
        CHECK(e.code() == code);
        return e.what();
    }
    FAIL("nothing thrown");
    return {};
}

} // namespace

TEST_CASE("config: the README's lines from an architecture and a menu", "[pvgrub][rules]") {
    Host host;
    host.installAll();
    ConfigRequest request;
    request.arch = Arch::X86_64;
    request.menu = "(hd0,0)/boot/grub/menu.lst";
    ConfigResult result = host.rules.config(request);
    CHECK(result.kernelLine() == "kernel = \"" + host.dirs.xenBoot + "/pv-grub-x86_64.gz\"");
    CHECK(result.extraLine() == "extra = \"(hd0,0)/boot/grub/menu.lst\"");
    CHECK(result.imageInstalled);
    CHECK(result.loader == Loader::PvGrub);
    CHECK(result.menuSource == MenuSource::Disk);
    CHECK(result.archSource == "the architecture given");
    CHECK(result.warnings.empty());
    REQUIRE(result.images.size() == 4);
    for (const auto& image : result.images)
        CHECK(image.installed);

    request.arch = Arch::X86_32;
    request.menu = "(nd)/somepath/menu.lst";
    result = host.rules.config(request);
    CHECK(result.kernelLine() == "kernel = \"" + host.dirs.xenBoot + "/pv-grub-x86_32.gz\"");
    CHECK(result.extraLine() == "extra = \"(nd)/somepath/menu.lst\"");
    CHECK(result.menuSource == MenuSource::Network);

    request.menu = "";
    result = host.rules.config(request);
    CHECK(result.extraLine() == "extra = \"\"");
    CHECK(result.menuSource == MenuSource::Dhcp);
}

TEST_CASE("config: the bitness read from the guest's kernel", "[pvgrub][rules]") {
    Host host;
    host.installAll();
    ConfigRequest request;
    request.guestKernel = host.install("vmlinuz-32.gz", test::gzip(test::elf32()));
    ConfigResult result = host.rules.config(request);
    CHECK(result.arch == Arch::X86_32);
    CHECK(result.image == host.dirs.xenBoot + "/pv-grub-x86_32.gz");
    CHECK(result.archSource ==
          "the kernel " + request.guestKernel + " (gzip-compressed ELF32 i386)");

    request.guestKernel = host.install("vmlinux-64", test::elf64());
    request.loader = Loader::Grub2;
    result = host.rules.config(request);
    CHECK(result.image == host.dirs.grubXen + "/grub-x86_64-xen.bin");
    CHECK(result.loader == Loader::Grub2);
}

TEST_CASE("config: each mismatch is refused saying which is which", "[pvgrub][rules]") {
    Host host;
    host.installAll();
    const std::string k64 = host.install("vmlinux-64", test::elf64());
    const std::string k32 = host.install("vmlinuz-32.gz", test::gzip(test::elf32()));

    SECTION("the architecture given against the kernel") {
        ConfigRequest request;
        request.arch = Arch::X86_32;
        request.guestKernel = k64;
        CHECK(thrown([&] { host.rules.config(request); }, ErrorCode::InvalidConfig) ==
              "the architecture given is x86_32 but the kernel " + k64 +
                  " is 64-bit (ELF64 x86-64)");
    }
    SECTION("a 64-bit kernel and the 32-bit PV-GRUB") {
        ConfigRequest request;
        request.guestKernel = k64;
        request.image = host.dirs.xenBoot + "/pv-grub-x86_32.gz";
        CHECK(thrown([&] { host.rules.config(request); }, ErrorCode::InvalidConfig) ==
              "bitness mismatch: the guest's kernel is 64-bit (x86_64, from the kernel " + k64 +
                  " (ELF64 x86-64)) but the PV-GRUB image " + request.image +
                  " is 32-bit (x86_32, from its name); a 32-bit PV-GRUB cannot boot a 64-bit "
                  "kernel: use " +
                  host.dirs.xenBoot + "/pv-grub-x86_64.gz");
    }
    SECTION("a 32-bit kernel and the 64-bit GRUB 2 image") {
        ConfigRequest request;
        request.guestKernel = k32;
        request.image = host.dirs.grubXen + "/grub-x86_64-xen.bin";
        const std::string message =
            thrown([&] { host.rules.config(request); }, ErrorCode::InvalidConfig);
        CHECK_THAT(message, Catch::StartsWith("bitness mismatch: the guest's kernel is 32-bit"));
        CHECK_THAT(message, Catch::Contains("a 64-bit PV-GRUB cannot boot a 32-bit kernel"));
        CHECK_THAT(message, Catch::EndsWith("use " + host.dirs.grubXen + "/grub-i386-xen.bin"));
    }
    SECTION("the unsuffixed pv-grub.gz: its ELF class decides") {
        const std::string image = host.install("xen-boot/pv-grub.gz", test::gzip(test::elf64()));
        ConfigRequest request;
        request.arch = Arch::X86_32;
        request.image = image;
        const std::string message =
            thrown([&] { host.rules.config(request); }, ErrorCode::InvalidConfig);
        CHECK_THAT(message,
                   Catch::Contains("is 64-bit (x86_64, from its ELF class (gzip-compressed "
                                   "ELF64 x86-64))"));
        request.arch = Arch::X86_64;
        ConfigResult result = host.rules.config(request);
        CHECK(result.kernelLine() == "kernel = \"" + image + "\"");
        CHECK(result.warnings.empty());
    }
}

TEST_CASE("config: missing images are reported, with what is installed", "[pvgrub][rules]") {
    Host host;
    ConfigRequest request;
    request.arch = Arch::X86_64;
    ConfigResult none = host.rules.config(request);
    CHECK_FALSE(none.imageInstalled);
    REQUIRE(none.warnings.size() == 1);
    CHECK(none.warnings[0] == none.image +
                                  " is not installed (no PV-GRUB image is installed); Xen's "
                                  "PV-GRUB images come from a Xen build with stubdom (the 32-bit "
                                  "one with XEN_TARGET_ARCH=x86_32)");

    host.install("grub-xen/grub-x86_64-xen.bin", test::elf64());
    ConfigResult some = host.rules.config(request);
    REQUIRE(some.warnings.size() == 1);
    CHECK_THAT(some.warnings[0],
               Catch::Contains("(installed: " + host.dirs.grubXen + "/grub-x86_64-xen.bin)"));

    request.loader = Loader::Grub2;
    request.arch = Arch::X86_32;
    ConfigResult grub = host.rules.config(request);
    CHECK_THAT(grub.warnings.at(0), Catch::EndsWith("come with Debian's grub-xen-host package"));

    // The unsuffixed name, missing: its bitness cannot be known either.
    ConfigRequest readme;
    readme.arch = Arch::X86_64;
    readme.image = "/nonexistent/pv-grub.gz";
    ConfigResult unknown = host.rules.config(readme);
    REQUIRE(unknown.warnings.size() == 2);
    CHECK(unknown.warnings[0] == "cannot tell the bitness of /nonexistent/pv-grub.gz (its name "
                                 "does not say and the file is missing); make sure it is the "
                                 "x86_64 build");
}

TEST_CASE("config: requests that say too little or contradict themselves", "[pvgrub][rules]") {
    Host host;
    ConfigRequest empty;
    CHECK_THAT(thrown([&] { host.rules.config(empty); }, ErrorCode::InvalidArgs),
               Catch::StartsWith("give the guest kernel's architecture"));

    ConfigRequest badMenu;
    badMenu.arch = Arch::X86_64;
    badMenu.menu = "(hd0,0)boot/grub/menu.lst";
    CHECK_THAT(thrown([&] { host.rules.config(badMenu); }, ErrorCode::InvalidConfig),
               Catch::Contains("column 8"));

    ConfigRequest notAnImage;
    notAnImage.arch = Arch::X86_64;
    notAnImage.image = "/boot/vmlinuz";
    CHECK_THAT(thrown([&] { host.rules.config(notAnImage); }, ErrorCode::InvalidConfig),
               Catch::StartsWith("/boot/vmlinuz is not a PV-GRUB image"));

    ConfigRequest contradiction;
    contradiction.arch = Arch::X86_64;
    contradiction.loader = Loader::Grub2;
    contradiction.image = "/usr/lib/xen/boot/pv-grub-x86_64.gz";
    CHECK(thrown([&] { host.rules.config(contradiction); }, ErrorCode::InvalidArgs) ==
          "the loader given is grub2 but /usr/lib/xen/boot/pv-grub-x86_64.gz is a pv-grub image");

    ConfigRequest grubMenu;
    grubMenu.arch = Arch::X86_64;
    grubMenu.loader = Loader::Grub2;
    grubMenu.menu = "(hd0,0)/boot/grub/menu.lst";
    CHECK_THAT(thrown([&] { host.rules.config(grubMenu); }, ErrorCode::InvalidConfig),
               Catch::StartsWith("GRUB 2's Xen images do not take a menu location from extra"));

    ConfigRequest unreadable;
    unreadable.guestKernel = host.install("notes", "text");
    CHECK_THAT(thrown([&] { host.rules.config(unreadable); }, ErrorCode::InvalidConfig),
               Catch::StartsWith("cannot tell the bitness of " + unreadable.guestKernel +
                                 ": not a kernel stubdomd recognises"));
}

TEST_CASE("check: the README's configs are accepted as written", "[pvgrub][rules]") {
    Host host;
    host.installAll();
    const std::string image = host.install("xen-boot/pv-grub.gz", test::gzip(test::elf64()));
    for (const std::string extra : {"(hd0,0)/boot/grub/menu.lst", "(nd)/somepath/menu.lst", ""}) {
        INFO(extra);
        CheckReport report =
            host.check("name = \"pv\"\nkernel = \"" + image + "\"\nextra = \"" + extra + "\"\n");
        CHECK(report.ok());
        CHECK(report.pvGrub);
        CHECK(report.imageInstalled);
        CHECK(report.loader == Loader::PvGrub);
        CHECK(report.imageArch == Arch::X86_64);
        CHECK(report.imageArchSource == "its ELF class (gzip-compressed ELF64 x86-64)");
        CHECK(report.extra == extra);
        CHECK(report.warnings.empty());
    }
    // No extra at all: the menu path from DHCP option 150, as with an empty one.
    CheckReport dhcp = host.check("kernel = \"" + image + "\"\n");
    CHECK(dhcp.ok());
    CHECK(dhcp.menuSource == MenuSource::Dhcp);
}

TEST_CASE("check: each problem, with the line it is on", "[pvgrub][rules]") {
    Host host;
    host.installAll();
    const std::string cfg = host.root.path() + "/guest.cfg";
    const std::string image64 = host.dirs.xenBoot + "/pv-grub-x86_64.gz";

    SECTION("not a PV-GRUB kernel: the image its bitness needs is named") {
        const std::string kernel =
            host.install("vmlinuz", test::bzImage(test::gzip(test::elf64())));
        CheckReport report = host.check("kernel = \"" + kernel + "\"\n");
        REQUIRE(report.problems.size() == 1);
        CHECK(report.problems[0].code == "not-pv-grub");
        CHECK(report.problems[0].message ==
              cfg + ":1: the kernel " + kernel +
                  " is not a PV-GRUB image, so the guest boots it directly; it is 64-bit "
                  "(bzImage (gzip-compressed ELF64 x86-64)): to boot the guest's own kernel "
                  "through PV-GRUB use kernel = \"" +
                  image64 + "\"");
        CHECK_FALSE(report.pvGrub);
    }
    SECTION("no kernel line") {
        CheckReport report = host.check("name = \"g\"\nbootloader = \"pygrub\"\n");
        REQUIRE(report.problems.size() == 1);
        CHECK(report.problems[0].code == "not-pv-grub");
    }
    SECTION("an HVM guest") {
        CheckReport report = host.check("builder = \"hvm\"\nkernel = \"" + image64 + "\"\n");
        REQUIRE(report.problems.size() == 1);
        CHECK(report.problems[0].code == "not-pv");
        CHECK(report.problems[0].message == cfg + ":1: the guest is of type hvm, not pv: "
                                                  "PV-GRUB boots PV guests only");
    }
    SECTION("the image is missing") {
        const std::string missing = host.root.path() + "/elsewhere/pv-grub-x86_32.gz";
        CheckReport report = host.check("name = \"g\"\nkernel = \"" + missing +
                                        "\"\nextra = \"(hd0,0)/boot/grub/menu.lst\"\n");
        REQUIRE(report.problems.size() == 1);
        CHECK(report.problems[0].code == "image-missing");
        CHECK_THAT(report.problems[0].message,
                   Catch::StartsWith(cfg + ":2: the PV-GRUB image " + missing +
                                     " is not installed (installed: "));
        CHECK(report.pvGrub);
        CHECK(report.imageArch == Arch::X86_32); // known from its name all the same
    }
    SECTION("a malformed extra, with its column") {
        CheckReport report =
            host.check("kernel = \"" + image64 + "\"\n\nextra = \"(hd0,0/boot/grub/menu.lst\"\n");
        REQUIRE(report.problems.size() == 1);
        CHECK(report.problems[0].code == "bad-extra");
        CHECK(report.problems[0].message ==
              cfg + ":3: extra \"(hd0,0/boot/grub/menu.lst\": column 7: expected ')' after the "
                    "partition number");
    }
    SECTION("root before extra breaks the menu path") {
        CheckReport report = host.check("kernel = \"" + image64 +
                                        "\"\nroot = \"/dev/xvda1\"\nextra = \"(nd)/m.lst\"\n");
        REQUIRE(report.problems.size() == 1);
        CHECK(report.problems[0].code == "bad-extra");
        CHECK_THAT(report.problems[0].message, Catch::Contains("remove the root line"));
    }
    SECTION("a bootloader overrides the kernel") {
        CheckReport report = host.check("kernel = \"" + image64 + "\"\nbootloader = \"pygrub\"\n");
        REQUIRE(report.problems.size() == 1);
        CHECK(report.problems[0].code == "bootloader");
    }
    SECTION("GRUB 2's image ignores extra: a warning, not a problem") {
        CheckReport report = host.check("kernel = \"" + host.dirs.grubXen +
                                        "/grub-x86_64-xen.bin\"\nextra = \"(hd0,0)/m.lst\"\n");
        CHECK(report.ok());
        CHECK(report.loader == Loader::Grub2);
        REQUIRE(report.warnings.size() == 1);
        CHECK_THAT(report.warnings[0], Catch::StartsWith("GRUB 2's Xen image does not take"));
    }
}

TEST_CASE("the daemon's tool: a config file read with the caller's rights", "[pvgrub][rules]") {
    TempDir dir;
    ::chmod(dir.path().c_str(), 0755);
    PvGrubTool tool(ImageDirs{dir.path(), dir.path()});
    const std::string cfg =
        dir.write("guest.cfg", "kernel = \"/usr/lib/xen/boot/pv-grub.gz\"\nextra = \"\"\n");
    ::chmod(cfg.c_str(), 0600);
    CheckReport report = tool.check(cfg, true);
    CHECK(report.pvGrub);
    CHECK(report.problems.at(0).code == "image-missing");
    CHECK(thrown([&] { tool.check(cfg, false); }, ErrorCode::AccessDenied) ==
          "cannot read " + cfg +
              " for you: stubdomd reads as root, so callers other than root may name only "
              "files everyone may read");
    CHECK_THAT(thrown([&] { tool.check(dir.path(), true); }, ErrorCode::InvalidConfig),
               Catch::EndsWith(": not a regular file"));
    const std::string big = dir.write("big.cfg", std::string(1024 * 1024 + 1, '#'));
    CHECK_THAT(thrown([&] { tool.check(big, true); }, ErrorCode::InvalidConfig),
               Catch::EndsWith("larger than 1048576 bytes"));
}
