// consoleTail: the last lines of a stub's console log, quoted in a failed spawn's reason.
#include "core/ConsoleTail.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <unistd.h>

using stubdomd::consoleTail;
using stubdomd::fileSize;

namespace {

struct TempFile {
    std::string path;
    explicit TempFile(const std::string& text) {
        char name[] = "/tmp/console-tail-XXXXXX";
        int fd = mkstemp(name);
        REQUIRE(fd >= 0);
        close(fd);
        path = name;
        std::ofstream(path, std::ios::binary) << text;
    }
    ~TempFile() { std::remove(path.c_str()); }
};

} // namespace

TEST_CASE("the last lines, joined, without blank lines and carriage returns", "[console-tail]") {
    TempFile log(
        "kernel line\r\n\r\nstubdom-init: starting QEMU\r\n"
        "qemu: could not load VGA BIOS\r\nstubdom-init: FAIL QEMU exited with status 1\r\n");
    CHECK(consoleTail(log.path, 0, 2) ==
          "qemu: could not load VGA BIOS | stubdom-init: FAIL QEMU exited with status 1");
    CHECK(consoleTail(log.path) == "kernel line | stubdom-init: starting QEMU | qemu: could not "
                                   "load VGA BIOS | stubdom-init: FAIL QEMU exited with status 1");
}

TEST_CASE("only what was written after `from`: an earlier stub's lines are not quoted",
          "[console-tail]") {
    TempFile log("old stub: FAIL something\n");
    auto from = fileSize(log.path);
    CHECK(from == 25);
    CHECK(consoleTail(log.path, from).empty());
    std::ofstream(log.path, std::ios::app) << "new stub: up\n";
    CHECK(consoleTail(log.path, from) == "new stub: up");
}

TEST_CASE("a long log is read from its end, whole lines only", "[console-tail]") {
    std::string text;
    for (int i = 0; i < 1000; ++i)
        text += "line " + std::to_string(i) + "\n";
    TempFile log(text);
    CHECK(consoleTail(log.path, 0, 3, 64) == "line 997 | line 998 | line 999");
    auto all = consoleTail(log.path, 0, 100, 40);
    CHECK(all.rfind("line ", 0) == 0); // begins with a whole line
    CHECK(all.size() <= 40 + 40);
}

TEST_CASE("control characters are dropped; a missing file gives nothing", "[console-tail]") {
    TempFile log("\x1b[0mcolour\x07\n");
    CHECK(consoleTail(log.path) == "[0mcolour");
    CHECK(consoleTail("/nonexistent/qemu-dm-x.log").empty());
    CHECK(fileSize("/nonexistent/qemu-dm-x.log") == 0);
}
