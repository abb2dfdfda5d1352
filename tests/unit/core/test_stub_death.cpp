// Why a stub domain died (StubDeath.hpp), a stub's memory as administrators write it
// (MemorySize.hpp) and the lines of a rotated console log (ConsoleTail.hpp).
#include "core/ConsoleTail.hpp"
#include "core/Excerpt.hpp"
#include "core/MemorySize.hpp"
#include "core/StubDeath.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace stubdomd;
using Catch::Contains;

TEST_CASE("the OOM killer's line names QEMU's death, over the crash it caused", "[stubdeath]") {
    const std::string tail =
        "ioemu stub domain g-dm booting | [   41.873412] Out of memory: Killed "
        "process 231 (qemu-system-i38) total-vm:301456kB | [   41.902877] "
        "Kernel panic - not syncing: Attempted to kill init!";
    const StubDeath death = explainStubDeath(3, tail);
    CHECK(death.cause == StubDeathCause::OutOfMemory);
    CHECK(std::string(toString(death.cause)) == "oom");
    CHECK_THAT(death.summary, Contains("crashed (Xen shutdown reason crash)"));
    CHECK_THAT(death.summary, Contains("OOM killer killed QEMU: Out of memory: Killed process 231 "
                                       "(qemu-system-i38)"));
    CHECK_THAT(death.summary, Contains("stubdomain_memory"));

    SECTION("an older kernel's wording, another victim") {
        const StubDeath other =
            explainStubDeath(3, "Out of memory: Kill process 77 (busybox) score 12");
        CHECK(other.cause == StubDeathCause::OutOfMemory);
        CHECK_THAT(other.summary, Contains("killed a process: Out of memory: Kill process 77"));
    }
}

TEST_CASE("QEMU's own exit is recognised; silence is a crash or a shutdown", "[stubdeath]") {
    CHECK(explainStubDeath(3, "stubdom-init: FAIL QEMU exited with status 1").cause ==
          StubDeathCause::QemuExited);
    const StubDeath vga = explainStubDeath(0, "x | qemu-system-i386: could not load VGA BIOS | y");
    CHECK(vga.cause == StubDeathCause::QemuExited);
    CHECK_THAT(vga.summary, Contains("shut down (Xen shutdown reason poweroff)") &&
                                Contains("device model stopped: qemu-system-i386: could not "
                                         "load VGA BIOS"));
    CHECK(explainStubDeath(3, "booting").cause == StubDeathCause::Crashed);
    CHECK(explainStubDeath(4, "").summary == "shut down (Xen shutdown reason watchdog)");
    CHECK(explainStubDeath(9, "").summary == "shut down (Xen shutdown reason unknown (9))");
    const StubDeath gone = explainStubDeath(std::nullopt, "");
    CHECK(gone.cause == StubDeathCause::Vanished);
    CHECK(std::string(toString(gone.cause)) == "destroyed");
}

TEST_CASE("stub memory: MiB plainly or with a unit; anything else is no size", "[memory]") {
    CHECK(parseMemoryMiB("500") == 500u);
    CHECK(parseMemoryMiB("500M") == 500u);
    CHECK(parseMemoryMiB("500 MB") == 500u);
    CHECK(parseMemoryMiB("512MiB") == 512u);
    CHECK(parseMemoryMiB("512mib") == 512u);
    CHECK(parseMemoryMiB("2G") == 2048u);
    CHECK(parseMemoryMiB("1GiB") == 1024u);
    CHECK(parseMemoryMiB("524288K") == 512u);
    CHECK_FALSE(parseMemoryMiB("1000K")); // not whole MiB
    CHECK_FALSE(parseMemoryMiB("500Q"));  // no such unit
    CHECK_FALSE(parseMemoryMiB("M"));     // no number
    CHECK_FALSE(parseMemoryMiB("0"));     // no memory
    CHECK_FALSE(parseMemoryMiB("-5M"));   // no sign
    CHECK_FALSE(parseMemoryMiB("5.5G"));  // whole numbers only
    CHECK_FALSE(parseMemoryMiB("2048G")); // above 1 TiB
    CHECK_FALSE(parseMemoryMiB("99999999999999999999999"));
    CHECK(minimumStubMemoryMiB(Flavour::Linux) == 128u);
    CHECK(minimumStubMemoryMiB(Flavour::Ioemu) == 16u);
}

TEST_CASE("a rotated console log reads as one stream, oldest first", "[console]") {
    char name[] = "/tmp/console-lines-XXXXXX";
    const int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    close(fd);
    const std::string path = name;
    std::ofstream(path + ".1", std::ios::binary) << "one\r\ntwo\nthr";
    std::ofstream(path, std::ios::binary) << "ee\nfo\x01ur\n";
    CHECK(lastConsoleLines(path, 10) == std::vector<std::string>{"one", "two", "three", "four"});
    CHECK(lastConsoleLines(path, 2) == std::vector<std::string>{"three", "four"});
    CHECK(lastConsoleLines(path + ".missing", 5).empty());
    std::ofstream(path, std::ios::binary) << "\xff\xfe" << std::string(2000, 'x') << "\n";
    const auto cut = lastConsoleLines(path, 1, 100);
    REQUIRE(cut.size() == 1);
    CHECK(validUtf8(cut[0])); // what D-Bus demands of a string
    CHECK_THAT(cut[0], Contains("bytes in all"));
    std::remove((path + ".1").c_str());
    std::remove(path.c_str());
}
