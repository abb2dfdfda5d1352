// Work run in a throwaway process (PvGrubCheck's parse of a caller's config): the result,
// the errors and the deaths of the child, and that the tool's parse there gives what a
// parse in the daemon would.
#include "core/Errors.hpp"
#include "pvgrub/KernelImage.hpp"
#include "pvgrub/PvGrubTool.hpp"
#include "pvgrub/ThrowawayProcess.hpp"
#include "xen/PvGrubConfigReader.hpp"

#include "TempDir.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

using namespace stubdomd;
using namespace stubdomd::pvgrub;
using test::TempDir;

namespace {

Error errorOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    FAIL("nothing thrown");
    return Error(ErrorCode::Internal, "");
}

} // namespace

TEST_CASE("the work runs in another process and its result comes back whole",
          "[pvgrub][throwaway]") {
    const pid_t parent = ::getpid();
    CHECK(runInThrowawayProcess("w", [] { return std::to_string(::getpid()); }) !=
          std::to_string(parent));
    std::string bytes;
    for (int i = 0; i < 256; ++i)
        bytes += static_cast<char>(i);
    const std::string big = std::string(300000, 'x') + bytes;
    CHECK(runInThrowawayProcess("w", [&] { return big; }) == big);
    CHECK(runInThrowawayProcess("w", [] { return std::string(); }).empty());
}

TEST_CASE("an Error thrown by the work keeps its code and message", "[pvgrub][throwaway]") {
    for (const auto code : {ErrorCode::InvalidConfig, ErrorCode::AccessDenied, ErrorCode::Internal,
                            ErrorCode::NoSuchGuest}) {
        const Error e = errorOf([&] {
            runInThrowawayProcess("w", [&]() -> std::string {
                throw Error(code, "/etc/xen/g.cfg:3: config parsing error\nnear `]'");
            });
        });
        CHECK(e.code() == code);
        CHECK(std::string(e.what()) == "/etc/xen/g.cfg:3: config parsing error\nnear `]'");
    }
}

TEST_CASE("a child that dies or throws something else is an Internal error naming the work",
          "[pvgrub][throwaway]") {
    Error e = errorOf([] {
        runInThrowawayProcess("parsing /x", []() -> std::string { throw std::out_of_range("k"); });
    });
    CHECK(e.code() == ErrorCode::Internal);
    CHECK(std::string(e.what()) == "parsing /x: k");

    e = errorOf([] {
        runInThrowawayProcess("parsing /x", []() -> std::string {
            ::kill(::getpid(), SIGKILL);
            return "never";
        });
    });
    CHECK(e.code() == ErrorCode::Internal);
    CHECK_THAT(e.what(), Catch::StartsWith("parsing /x: its process was killed by signal 9"));

    e = errorOf([] { runInThrowawayProcess("parsing /x", []() -> std::string { ::_exit(3); }); });
    CHECK(e.code() == ErrorCode::Internal);
    CHECK(std::string(e.what()) ==
          "parsing /x: its process exited with status 3 before it answered");
}

TEST_CASE("PvGrubCheck's parse apart gives what a parse in the daemon gives",
          "[pvgrub][throwaway]") {
    TempDir dir;
    ::chmod(dir.path().c_str(), 0755);
    PvGrubTool tool(ImageDirs{dir.path(), dir.path()});
    KernelFileAccess files(true);
    Rules rules(ImageDirs{dir.path(), dir.path()}, files);

    // Every key the check reads, bytes that are not UTF-8, and problems that cite lines.
    const std::string text = "name = \"caf\xe9\"\n"
                             "builder = \"generic\"\n"
                             "# a comment\n"
                             "kernel = \"/usr/lib/xen/boot/pv-grub-x86_64.gz\"\n"
                             "root = \"/dev/xvda1\"\n"
                             "extra = \"(hd0,0)/boot/grub/menu.lst\"\n"
                             "bootloader = \"pygrub\"\n";
    const std::string cfg = dir.write("guest.cfg", text);
    const CheckReport apart = tool.check(cfg, true);
    const CheckReport here = rules.check(parsePvGuestConfig(text, cfg));
    CHECK(apart.source == cfg);
    CHECK(apart.name == "caf\xe9");
    CHECK(apart.name == here.name);
    CHECK(apart.kernel == here.kernel);
    CHECK(apart.extra == here.extra);
    CHECK(apart.menu == here.menu);
    CHECK(apart.warnings == here.warnings);
    REQUIRE(apart.problems.size() == here.problems.size());
    REQUIRE_FALSE(apart.problems.empty());
    for (std::size_t i = 0; i < apart.problems.size(); ++i) {
        CHECK(apart.problems[i].code == here.problems[i].code);
        CHECK(apart.problems[i].message == here.problems[i].message);
    }

    SECTION("a syntax error is libxlutil's message, as an InvalidConfig") {
        const std::string bad = dir.write("bad.cfg", "kernel = \"/k\"\nextra = [ \"a\", \n");
        const Error e = errorOf([&] { tool.check(bad, true); });
        CHECK(e.code() == ErrorCode::InvalidConfig);
        CHECK(std::string(e.what()) ==
              errorOf([&] {
                  parsePvGuestConfig("kernel = \"/k\"\nextra = [ \"a\", \n", bad);
              }).what());
        CHECK_THAT(e.what(), Catch::StartsWith(bad + ":"));
    }
}
