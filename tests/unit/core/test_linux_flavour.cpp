// The Linux stub-domain flavour: which flavour a stub config means, qemu's arguments as
// libxl builds them for a stub domain, and how they reach /vm/<uuid>/image/dm-argv.
#include "EngineHarness.hpp"
#include "core/Errors.hpp"
#include "core/LinuxDeviceModel.hpp"
#include "core/StubFlavour.hpp"
#include "core/StubLinker.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using namespace stubdomd::fakes;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;

namespace {

const std::string kLinuxKernel = "/usr/lib/xen/boot/qemu-stubdom-linux-kernel";
const std::string kLinuxRootfs = "/usr/lib/xen/boot/qemu-stubdom-linux-rootfs";
const std::string kIoemuKernel = "/usr/lib/xen/boot/ioemu-stubdom.gz";

Flavour chosen(const FlavourHints& hints, Flavour dflt = Flavour::Ioemu) {
    const auto result = chooseFlavour(hints, dflt);
    if (const auto* conflict = std::get_if<FlavourConflict>(&result))
        FAIL("conflict: " << conflict->message);
    return std::get<Flavour>(result);
}

FlavourConflict conflictOf(const FlavourHints& hints) {
    const auto result = chooseFlavour(hints, Flavour::Ioemu);
    REQUIRE(std::holds_alternative<FlavourConflict>(result));
    return std::get<FlavourConflict>(result);
}

// The arguments every guest gets, in libxl's order, around the display ones.
using Args = std::vector<std::string>;
Args head(const std::string& domid, const std::string& name) {
    return {"-xen-domid", domid, "-no-shutdown", "-nodefaults", "-no-user-config", "-name", name};
}
Args machine(unsigned vgamem) {
    return {"-device",  "cirrus-vga,vgamem_mb=" + std::to_string(vgamem),
            "-boot",    "order=cda",
            "-net",     "none",
            "-machine", "xenfv,suppress-vmdesc=on"};
}
Args operator+(Args a, const Args& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

GuestIdentity guest() {
    return GuestIdentity{7, "win10", "6a9cb6a4-4a1e-4b8a-9c57-0d3ad1a3e5e1"};
}

} // namespace

TEST_CASE("a stub config's flavour: explicit, then the images' names, then the default",
          "[linux]") {
    FlavourHints hints;
    CHECK(chosen(hints) == Flavour::Ioemu);
    CHECK(chosen(hints, Flavour::Linux) == Flavour::Linux);

    hints.kernel = kLinuxKernel;
    CHECK(chosen(hints) == Flavour::Linux);
    hints.kernel = "/opt/xen/qemu-stubdom-linux-kernel"; // the name counts, not the directory
    CHECK(chosen(hints) == Flavour::Linux);
    hints.kernel.reset();
    hints.ramdisk = kLinuxRootfs;
    CHECK(chosen(hints) == Flavour::Linux);
    hints.ramdisk.reset();
    hints.kernel = kIoemuKernel;
    CHECK(chosen(hints, Flavour::Linux) == Flavour::Ioemu);

    // A custom kernel says nothing; the explicit key or the default decides.
    hints.kernel = "/realxen/stub/vmlinuz";
    hints.ramdisk = "/realxen/stub/initrd";
    CHECK(chosen(hints) == Flavour::Ioemu);
    CHECK(chosen(hints, Flavour::Linux) == Flavour::Linux);
    hints.explicitFlavour = Flavour::Linux;
    CHECK(chosen(hints) == Flavour::Linux);
    hints.explicitFlavour = Flavour::Ioemu;
    CHECK(chosen(hints, Flavour::Linux) == Flavour::Ioemu);
}

TEST_CASE("stub-config settings that name different flavours are a conflict", "[linux]") {
    FlavourHints hints;
    hints.explicitFlavour = Flavour::Ioemu;
    hints.kernel = kLinuxKernel;
    auto c = conflictOf(hints);
    CHECK(c.key == "flavour");
    CHECK_THAT(c.message, Equals("'flavour' is \"ioemu\", but 'kernel' \"" + kLinuxKernel +
                                 "\" is the linux stub domain's"));

    hints = FlavourHints{};
    hints.explicitFlavour = Flavour::Linux;
    hints.kernelKey = "stubdomain_kernel";
    hints.kernel = kIoemuKernel;
    c = conflictOf(hints);
    CHECK(c.key == "flavour");
    CHECK_THAT(c.message,
               Contains("'stubdomain_kernel' \"" + kIoemuKernel + "\" is the ioemu stub domain's"));

    hints = FlavourHints{};
    hints.kernel = kIoemuKernel;
    hints.ramdisk = kLinuxRootfs;
    c = conflictOf(hints);
    CHECK(c.key == "ramdisk");
    CHECK_THAT(c.message, Equals("'ramdisk' \"" + kLinuxRootfs +
                                 "\" is the linux stub domain's, but 'kernel' \"" + kIoemuKernel +
                                 "\" is the ioemu stub domain's"));
}

TEST_CASE("qemu's arguments for a plain guest, in libxl's order", "[linux]") {
    LinuxDeviceModelInputs inputs;
    inputs.ramMiB = 1024;
    CHECK(linuxDeviceModelArgv(guest(), inputs) ==
          head("7", "win10") + Args{"-display", "none"} + machine(8) + Args{"-m", "1024"});

    SECTION("display settings: -vnc for vnc-stubdom, the keymap, the video memory") {
        inputs.display.vnc = "10.0.1.1:0";
        inputs.display.keymap = "de";
        inputs.display.videoRamMiB = 16;
        inputs.ramMiB.reset();
        CHECK(linuxDeviceModelArgv(guest(), inputs) ==
              head("7", "win10") + Args{"-vnc", "10.0.1.1:0", "-display", "none", "-k", "de"} +
                  machine(16));
    }
    SECTION("no video memory (libxl's record of vga = \"none\"): no VGA device at all") {
        // seen on real Xen: a 0 MiB Cirrus made the stub's qemu exit at once
        inputs.display.videoRamMiB = 0;
        CHECK(linuxDeviceModelArgv(guest(), inputs) ==
              head("7", "win10") + Args{"-display", "none", "-boot", "order=cda", "-net", "none",
                                        "-machine", "xenfv,suppress-vmdesc=on", "-m", "1024"});
    }
    SECTION("a name with spaces stays one argument (no splitting, unlike ioemu's dmargs)") {
        GuestIdentity g = guest();
        g.name = "my guest";
        CHECK(linuxDeviceModelArgv(g, inputs)[6] == "my guest");
    }
}

TEST_CASE("the guest's disks as the stub's qemu emulates them", "[linux]") {
    LinuxDeviceModelInputs inputs;
    inputs.disks = {{"hda", false, true, false},  {"hdc", true, false, false},
                    {"xvdb", false, true, false}, {"sda", false, true, false},
                    {"hdd", true, false, true},   {"xvde", false, true, false}};
    const auto argv = linuxDeviceModelArgv(guest(), inputs);
    const std::vector<std::string> disks(argv.begin() + 17, argv.end());
    CHECK(std::vector<std::string>(argv.begin() + 15, argv.begin() + 17) ==
          std::vector<std::string>{"-machine", "xenfv,suppress-vmdesc=on"});
    CHECK(disks ==
          std::vector<std::string>{
              "-drive",
              "file=/dev/xvda,if=ide,index=0,media=disk,format=host_device,cache=writeback",
              "-drive", "if=none,readonly=on,id=ide-5632,file=/dev/xvdc,format=host_device",
              "-device", "ide-cd,id=ide-5632,drive=ide-5632,bus=ide.1,unit=0", "-drive",
              "file=/dev/xvdb,if=ide,index=1,media=disk,format=host_device,cache=writeback",
              // sda: SCSI, left to PV drivers; hdd: an empty cdrom drive
              "-drive", "if=none,readonly=on,id=ide-5696", "-device",
              "ide-cd,id=ide-5696,drive=ide-5696,bus=ide.1,unit=1"
              // xvde: past the four IDE slots, PV only
          });

    SECTION("a read-only IDE disk is refused, as libxl refuses it") {
        inputs.disks = {{"hdb", false, false, false}};
        CHECK_THROWS_WITH(linuxDeviceModelArgv(guest(), inputs),
                          Contains("disk hdb is read-only, which upstream qemu cannot emulate"));
    }
}

TEST_CASE("disk names are numbered as libxl numbers them", "[linux]") {
    CHECK(diskNumber("hda")->devNumber == 768);
    CHECK(diskNumber("hdb")->devNumber == 832);
    CHECK(diskNumber("hdc")->devNumber == 5632);
    CHECK(diskNumber("xvda")->devNumber == 51712);
    CHECK(diskNumber("xvdb")->index == 1);
    CHECK(diskNumber("xvdaa")->index == 26);
    CHECK(diskNumber("sdb")->devNumber == 2064);
    CHECK_FALSE(diskNumber("hde"));
    CHECK_FALSE(diskNumber("hda1"));
    CHECK_FALSE(diskNumber("vda"));
}

TEST_CASE("the linker writes dm-argv one argument per key, readable by the stub only", "[linux]") {
    FakeStore store;
    FakeHypervisor hypervisor;
    StubLinker linker(store, hypervisor);
    const std::string uuid = guest().uuid;
    const std::string argv = "/vm/" + uuid + "/image/dm-argv";
    store.put(argv + "/009", "left over from a longer list");

    LinkRequest request{7, 8, uuid, "", Flavour::Linux, {"-xen-domid", "7", "-name", "win10"}};
    linker.link(request);
    CHECK(store.list(argv) == std::vector<std::string>{"001", "002", "003", "004"});
    CHECK(store.get(argv + "/001") == "-xen-domid");
    CHECK(store.get(argv + "/004") == "win10");
    const std::vector<Permission> stubReads{{0, Access::None}, {8, Access::Read}};
    CHECK(store.permsOf(argv) == stubReads);
    for (const char* key : {"001", "002", "003", "004"})
        CHECK(store.permsOf(argv + "/" + key) == stubReads);
    CHECK_FALSE(store.has("/vm/" + uuid + "/image/dmargs"));
    CHECK(dmArgvKey(999) == "1000");

    linker.unlink(7, uuid);
    CHECK_FALSE(store.has(argv));
}

TEST_CASE("a Linux guest's stub gets dm-argv, its memory from the toolstack, and runs", "[linux]") {
    Harness h;
    h.withSpec("win10");
    StubSpec& spec = h.specs.specs["win10"];
    spec.kernel.reset();
    spec.vifs.clear();
    spec.disks = {"phy:/dev/vg/win10,hda,w"};
    spec.diskDevices = {{"hda", false, true, false}};
    spec.flavour = Flavour::Linux;
    h.startManager();
    const DomId g = h.nextDomid;
    // libxl's record of the guest's memory: 1 GiB plus 16 MiB of video memory.
    h.store.put(paths::memoryStaticMax(g), std::to_string((1024 + 16) * 1024));
    h.store.put(paths::memoryVideoram(g), std::to_string(16 * 1024));
    h.addGuest("win10");

    CHECK(h.view("win10").flavour == Flavour::Linux);
    const std::string cfg = h.files.at("/run/stubdomd/win10-dm.cfg");
    CHECK_THAT(cfg, Contains("\nkernel = \"" + kLinuxKernel + "\"\nramdisk = \"" + kLinuxRootfs +
                             "\"\nmemory = 272\n"));
    // No -d (the stub finds its guest by `target`); the kernel line is the settings' "quiet".
    CHECK_THAT(cfg, Contains("\nextra = \"quiet\"\n"));
    CHECK_THAT(cfg, !Contains("-d "));

    h.step("create");
    h.step("domid");
    const GuestView v = h.view("win10");
    const DomId s = v.stubDomid;
    REQUIRE(s != 0);
    const std::string argv = paths::dmArgv(v.uuid);
    std::vector<std::string> values;
    for (const auto& key : h.store.list(argv))
        values.push_back(h.store.get(argv + "/" + key));
    CHECK(values == head(std::to_string(g), "win10") + Args{"-display", "none"} + machine(16) +
                        Args{"-m", "1024", "-drive",
                             "file=/dev/xvda,if=ide,index=0,media=disk,format=host_device,"
                             "cache=writeback"});
    CHECK(h.store.permsOf(argv + "/001") ==
          std::vector<Permission>{{0, Access::None}, {s, Access::Read}});
    CHECK_FALSE(h.store.has(paths::dmargs(v.uuid)));

    h.step("unpause");
    CHECK(h.view("win10").state == GuestState::Running);

    SECTION("no dm-argv outlives the guest (libxl's destroy removes its /vm/<uuid>)") {
        h.removeDomain(g);
        h.settle();
        h.runXl();
        CHECK_FALSE(h.store.has(argv));
    }
}

TEST_CASE("a missing Linux kernel or rootfs fails the guest before anything is created",
          "[linux]") {
    Harness h;
    h.withSpec("win10");
    StubSpec& spec = h.specs.specs["win10"];
    spec.kernel.reset();
    spec.flavour = Flavour::Linux;
    const bool kernel = GENERATE(true, false);
    const std::string missing = kernel ? kLinuxKernel : kLinuxRootfs;
    h.unreadable.insert(missing);
    h.startManager();
    h.addGuest("win10");

    const GuestView v = h.view("win10");
    CHECK(v.state == GuestState::Failed);
    CHECK_THAT(v.stateReason, Contains(missing + " cannot be read"));
    CHECK_THAT(v.stateReason, Contains(kernel ? "linux_stub_kernel" : "linux_stub_rootfs"));
    CHECK(h.toolstack.count("create") == 0);

    SECTION("Start says the same, as InvalidConfig") {
        std::optional<Error> error;
        h.manager->start(v.uuid, [&](const std::optional<Error>& e) { error = e; });
        h.settle();
        REQUIRE(error);
        CHECK(error->code() == ErrorCode::InvalidConfig);
        CHECK_THAT(error->what(), Contains(missing));
        CHECK(h.toolstack.count("create") == 0);
    }
}

namespace {

struct FakeConsoleLogs : ConsoleLogs {
    std::vector<std::string> calls;
    void follow(DomId stub, const std::string& tty, const std::string& log) override {
        calls.push_back("follow " + std::to_string(stub) + " " + tty + " " + log);
    }
    void stop(DomId stub) override { calls.push_back("stop " + std::to_string(stub)); }
};

} // namespace

TEST_CASE("a stub domain's console is logged once xenconsoled publishes a dom0-owned pty",
          "[console]") {
    Harness h;
    h.withSpec("hvmconfig");
    h.settings.logDir = "/srv/xenlog";
    FakeConsoleLogs consoles;
    h.startManagerWith([&](GuestManager& m) { m.setConsoleLogs(consoles); });
    h.addGuest("hvmconfig");
    h.step("create");
    h.step("domid");
    const DomId s = h.view("hvmconfig").stubDomid;
    REQUIRE(s != 0);
    const std::string tty = paths::consoleTty(s);
    CHECK(h.store.watching(tty) == 1);
    h.store.put(tty, ""); // the frontend as libxl makes it: no pty yet
    h.settle();
    h.store.put(tty, "/dev/pts/9", s); // a value the stub wrote itself is never followed
    h.settle();
    CHECK(std::count_if(consoles.calls.begin(), consoles.calls.end(),
                        [](const std::string& c) { return c.rfind("follow", 0) == 0; }) == 0);

    h.store.put(tty, "/dev/pts/7");
    h.settle();
    CHECK(consoles.calls.back() ==
          "follow " + std::to_string(s) + " /dev/pts/7 /srv/xenlog/qemu-dm-hvmconfig.log");
    CHECK(h.store.watching(tty) == 0);

    h.step("unpause");
    CHECK(h.view("hvmconfig").state == GuestState::Running);
    consoles.calls.clear();
    h.removeDomain(s); // the stub dies: its log ends
    h.settle();
    CHECK(std::find(consoles.calls.begin(), consoles.calls.end(), "stop " + std::to_string(s)) !=
          consoles.calls.end());
}
