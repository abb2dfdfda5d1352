// The command line: options, overrides over the file, exit statuses.
#include "config/CommandLine.hpp"
#include "config/ConfigFile.hpp"

#include "TempDir.hpp"

#include <catch2/catch.hpp>

#include <initializer_list>
#include <sstream>
#include <vector>

using namespace stubdomd;
using Catch::Matchers::Contains;

namespace {

struct Run {
    std::variant<CommandLineOptions, int> result;
    std::string out, err;
};

Run arguments(std::initializer_list<const char*> args) {
    std::vector<const char*> argv{"stubdomd"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::ostringstream out, err;
    auto result = parseArguments(static_cast<int>(argv.size()), argv.data(), out, err);
    return {std::move(result), out.str(), err.str()};
}

struct Started {
    Startup startup;
    std::string out, err;
};

Started start(const std::vector<std::string>& args) {
    std::vector<const char*> argv{"stubdomd"};
    for (const auto& a : args)
        argv.push_back(a.c_str());
    std::ostringstream out, err;
    auto startup = parseCommandLine(static_cast<int>(argv.size()), argv.data(), out, err);
    return {std::move(startup), out.str(), err.str()};
}

} // namespace

TEST_CASE("no options: the default file, nothing overridden", "[cmdline]") {
    const Run run = arguments({});
    const auto& o = std::get<CommandLineOptions>(run.result);
    CHECK(o.configPath == kDefaultConfigPath);
    CHECK_FALSE(o.configExplicit);
    CHECK_FALSE(o.xenConfigDir);
    CHECK_FALSE(o.toolstack);
    CHECK_FALSE(o.maxParallelSpawns);
    CHECK_FALSE(o.onStubdomDeath);
    CHECK_FALSE(o.startTimeout);
}

TEST_CASE("every option is read", "[cmdline]") {
    const Run run = arguments({"--config", "/tmp/s.json", "--xen-config-dir", "/srv/xen",
                               "--toolstack", "/opt/xl", "--runtime-dir", "/srv/run", "--state-dir",
                               "/srv/state", "--stub-kernel", "/srv/k.gz", "--max-parallel-spawns",
                               "8", "--on-stubdom-death", "leave", "--start-timeout-ms", "1234"});
    const auto& o = std::get<CommandLineOptions>(run.result);
    CHECK(o.configPath == "/tmp/s.json");
    CHECK(o.configExplicit);
    CHECK(o.xenConfigDir == "/srv/xen");
    CHECK(o.toolstack == "/opt/xl");
    CHECK(o.runtimeDir == "/srv/run");
    CHECK(o.stateDir == "/srv/state");
    CHECK(o.stubKernel == "/srv/k.gz");
    CHECK(o.maxParallelSpawns == 8u);
    CHECK(o.onStubdomDeath == StubDeathPolicy::Leave);
    CHECK(o.startTimeout == std::chrono::milliseconds(1234));

    const Settings s = applyOverrides(Settings{}, o);
    CHECK(s.xenConfigDir == "/srv/xen");
    CHECK(s.toolstack == "/opt/xl");
    CHECK(s.runtimeDir == "/srv/run");
    CHECK(s.stateDir == "/srv/state");
    CHECK(s.stubKernel == "/srv/k.gz");
    CHECK(s.maxParallelSpawns == 8);
    CHECK(s.onStubdomDeath == StubDeathPolicy::Leave);
    CHECK(s.startTimeout == std::chrono::milliseconds(1234));
    CHECK(s.exportsDir == "/exports"); // not an option: untouched
}

TEST_CASE("--help and --version print on stdout and exit 0", "[cmdline]") {
    const Run help = arguments({"--help"});
    CHECK(std::get<int>(help.result) == 0);
    CHECK_THAT(help.out, Contains("--xen-config-dir"));
    CHECK_THAT(help.out, Contains("--on-stubdom-death"));
    CHECK(help.err.empty());

    const Run version = arguments({"--version"});
    CHECK(std::get<int>(version.result) == 0);
    CHECK_THAT(version.out, Contains("stubdomd "));
}

TEST_CASE("usage errors exit 2 with CLI11's message", "[cmdline]") {
    SECTION("unknown option") {
        const Run run = arguments({"--frobnicate"});
        CHECK(std::get<int>(run.result) == kExitUsage);
        CHECK_THAT(run.err, Contains("--frobnicate"));
    }
    SECTION("bad policy") {
        const Run run = arguments({"--on-stubdom-death", "reboot"});
        CHECK(std::get<int>(run.result) == kExitUsage);
        CHECK_THAT(run.err, Contains("reboot"));
    }
    SECTION("zero spawns") {
        const Run run = arguments({"--max-parallel-spawns", "0"});
        CHECK(std::get<int>(run.result) == kExitUsage);
        CHECK_THAT(run.err, Contains("--max-parallel-spawns"));
    }
    SECTION("not a number") {
        const Run run = arguments({"--max-parallel-spawns", "four"});
        CHECK(std::get<int>(run.result) == kExitUsage);
        CHECK_THAT(run.err, Contains("four"));
    }
    SECTION("negative") {
        const Run run = arguments({"--start-timeout-ms", "-5"});
        CHECK(std::get<int>(run.result) == kExitUsage);
    }
    SECTION("missing value") {
        const Run run = arguments({"--config"});
        CHECK(std::get<int>(run.result) == kExitUsage);
        CHECK_THAT(run.err, Contains("--config"));
    }
    SECTION("positional argument") {
        const Run run = arguments({"extra"});
        CHECK(std::get<int>(run.result) == kExitUsage);
    }
}

TEST_CASE("options override the file, the file overrides the defaults", "[cmdline]") {
    test::TempDir dir;
    const std::string file = dir.write(
        "s.json", R"({"max_parallel_spawns": 2, "toolstack": "/file/xl", "max_restarts": 9})");
    const Started s = start({"--config", file, "--max-parallel-spawns", "7"});
    REQUIRE(s.startup.settings);
    CHECK(s.startup.settings->maxParallelSpawns == 7);  // option
    CHECK(s.startup.settings->toolstack == "/file/xl"); // file
    CHECK(s.startup.settings->maxRestarts == 9);        // file
    CHECK(s.startup.settings->stubMemoryMiB == 32);     // default
}

TEST_CASE("an explicit --config that is missing is an error", "[cmdline]") {
    test::TempDir dir;
    const std::string missing = dir.path() + "/none.json";
    const Started s = start({"--config", missing});
    CHECK_FALSE(s.startup.settings);
    CHECK(s.startup.exitCode == kExitConfig);
    CHECK_THAT(s.err, Contains("stubdomd: cannot read " + missing + ": No such file or directory"));
}

TEST_CASE("a bad settings file stops the start with its message", "[cmdline]") {
    test::TempDir dir;
    const std::string file = dir.write("s.json", R"({"helpers": [{"name": "a", "pth": "/b"}]})");
    const Started s = start({"--config", file});
    CHECK_FALSE(s.startup.settings);
    CHECK(s.startup.exitCode == kExitConfig);
    CHECK_THAT(s.err, Contains(file + ": unknown key 'helpers[0].pth' (did you mean 'path'?)"));
}

TEST_CASE("usage errors come before reading the file", "[cmdline]") {
    const Started s = start({"--config", "/nonexistent/s.json", "--bogus"});
    CHECK(s.startup.exitCode == kExitUsage);
    CHECK_THAT(s.err, !Contains("cannot read"));
}
