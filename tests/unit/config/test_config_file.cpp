// stubdomd.json: defaults, every key, and the message of every kind of mistake.
#include "config/ConfigFile.hpp"
#include "core/Errors.hpp"

#include "InvalidConfig.hpp"
#include "TempDir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

using namespace stubdomd;
using Catch::Matchers::Contains;
using Catch::Matchers::Equals;

namespace {

const std::string kFile = "/etc/stubdomd/stubdomd.json";

std::string errorOf(const std::string& text) {
    return test::invalidConfigMessage([&] { parseSettings(text, kFile); }, text);
}

} // namespace

TEST_CASE("an empty object gives the defaults of DESIGN.md section 7", "[config]") {
    const Settings s = parseSettings("{}", kFile);
    CHECK(s.toolstack == "/usr/sbin/xl");
    CHECK(s.xenConfigDir == "/etc/xen");
    CHECK(s.stateDir == "/var/lib/stubdomd");
    CHECK(s.runtimeDir == "/run/stubdomd");
    CHECK(s.stubKernel == "/usr/lib/xen/boot/ioemu-stubdom.gz");
    CHECK(s.stubMemoryMiB == 32);
    CHECK(s.startTimeout == std::chrono::milliseconds(30000));
    CHECK(s.toolstackTimeout == std::chrono::milliseconds(60000));
    CHECK(s.maxParallelSpawns == 4);
    CHECK(s.onStubdomDeath == StubDeathPolicy::CrashGuest);
    CHECK(s.maxRestarts == 5);
    CHECK(s.exportsDir == "/exports");
    CHECK(s.keymapsDir == "/usr/share/xen/qemu/keymaps");
    CHECK(s.xenLibDir == "/var/lib/xen");
    // No `helpers` key: the README's fs-backend, enabled, not required.
    REQUIRE(s.helpers.size() == 1);
    CHECK(s.helpers[0].name == "fs-backend");
    CHECK(s.helpers[0].path == "/usr/sbin/fs-backend");
    CHECK(s.helpers[0].enabled);
    CHECK_FALSE(s.helpers[0].required);
    CHECK(s.helpers[0].servesExports);
    CHECK(s.helpers[0].restartDelay == std::chrono::milliseconds(1000));
    CHECK(s.helpers[0].restartDelayMax == std::chrono::milliseconds(60000));
    // An empty list means none.
    CHECK(parseSettings(R"({"helpers": []})", kFile).helpers.empty());
}

TEST_CASE("every key is read", "[config]") {
    const Settings s = parseSettings(R"({
        "toolstack": "/opt/xl",
        "xen_config_dir": "/srv/xen",
        "state_dir": "/srv/state",
        "runtime_dir": "/srv/run",
        "stub_kernel": "/srv/ioemu.gz",
        "stub_memory_mib": 64,
        "start_timeout_ms": 1500,
        "toolstack_timeout_ms": 2500,
        "max_parallel_spawns": 16,
        "on_stubdom_death": "restart",
        "max_restarts": 0,
        "exports_dir": "/srv/exports",
        "keymaps_dir": "/srv/keymaps",
        "xen_lib_dir": "/srv/xenlib",
        "helpers": [
            {"name": "fs-backend", "path": "/usr/sbin/fs-backend", "args": ["-v", ""],
             "enabled": false, "required": true, "start_limit_burst": 3,
             "start_limit_interval_s": 10, "stop_timeout_ms": 700,
             "restart_delay_ms": 200, "restart_delay_max_ms": 800, "serves_exports": true},
            {"name": "other_1", "path": "/bin/true"}
        ]
    })",
                                     kFile);
    CHECK(s.toolstack == "/opt/xl");
    CHECK(s.xenConfigDir == "/srv/xen");
    CHECK(s.stateDir == "/srv/state");
    CHECK(s.runtimeDir == "/srv/run");
    CHECK(s.stubKernel == "/srv/ioemu.gz");
    CHECK(s.stubMemoryMiB == 64);
    CHECK(s.startTimeout == std::chrono::milliseconds(1500));
    CHECK(s.toolstackTimeout == std::chrono::milliseconds(2500));
    CHECK(s.maxParallelSpawns == 16);
    CHECK(s.onStubdomDeath == StubDeathPolicy::Restart);
    CHECK(s.maxRestarts == 0);
    CHECK(s.exportsDir == "/srv/exports");
    REQUIRE(s.helpers.size() == 2);
    const HelperSettings& fs = s.helpers[0];
    CHECK(fs.name == "fs-backend");
    CHECK(fs.path == "/usr/sbin/fs-backend");
    CHECK(fs.args == std::vector<std::string>{"-v", ""});
    CHECK_FALSE(fs.enabled);
    CHECK(fs.required);
    CHECK(fs.startLimitBurst == 3);
    CHECK(fs.startLimitInterval == std::chrono::seconds(10));
    CHECK(fs.stopTimeout == std::chrono::milliseconds(700));
    CHECK(fs.restartDelay == std::chrono::milliseconds(200));
    CHECK(fs.restartDelayMax == std::chrono::milliseconds(800));
    CHECK(fs.servesExports);
    CHECK(s.keymapsDir == "/srv/keymaps");
    CHECK(s.xenLibDir == "/srv/xenlib");
    const HelperSettings& other = s.helpers[1];
    CHECK(other.name == "other_1");
    CHECK(other.args.empty());
    CHECK(other.enabled);
    CHECK_FALSE(other.required);
    CHECK(other.startLimitBurst == 5);
    CHECK(other.startLimitInterval == std::chrono::seconds(60));
    CHECK(other.stopTimeout == std::chrono::milliseconds(5000));
    CHECK_FALSE(other.servesExports);
}

TEST_CASE("a helper's backoff cannot end below where it starts", "[config]") {
    CHECK_THAT(errorOf(R"({"helpers": [{"name": "a", "path": "/b", "restart_delay_ms": 2000,
                                         "restart_delay_max_ms": 1000}]})"),
               Equals(kFile + ": 'helpers[0].restart_delay_max_ms' must not be below "
                              "'helpers[0].restart_delay_ms'"));
    CHECK_THAT(errorOf(R"({"helpers": [{"name": "a", "path": "/b", "serves_exports": 1}]})"),
               Equals(kFile + ": 'helpers[0].serves_exports' must be true or false, got number 1"));
}

TEST_CASE("each policy word is accepted", "[config]") {
    CHECK(parseSettings(R"({"on_stubdom_death": "crash-guest"})", kFile).onStubdomDeath ==
          StubDeathPolicy::CrashGuest);
    CHECK(parseSettings(R"({"on_stubdom_death": "leave"})", kFile).onStubdomDeath ==
          StubDeathPolicy::Leave);
}

TEST_CASE("unknown keys are errors naming the key's path", "[config]") {
    CHECK_THAT(errorOf(R"({"helpers": [{"name": "a", "path": "/b", "pth": "/c"}]})"),
               Equals(kFile + ": unknown key 'helpers[0].pth' (did you mean 'path'?)"));
    CHECK_THAT(
        errorOf(R"({"max_paralel_spawns": 3})"),
        Equals(kFile + ": unknown key 'max_paralel_spawns' (did you mean 'max_parallel_spawns'?)"));
    SECTION("no suggestion when nothing is close") {
        CHECK_THAT(errorOf(R"({"colour": "blue"})"), Equals(kFile + ": unknown key 'colour'"));
    }
    SECTION("the second helper is named by its index") {
        CHECK_THAT(errorOf(R"({"helpers": [{"name": "a", "path": "/b"},
                                           {"name": "c", "path": "/d", "enable": true}]})"),
                   Equals(kFile + ": unknown key 'helpers[1].enable' (did you mean 'enabled'?)"));
    }
}

TEST_CASE("wrong types are errors saying what was expected and what was found", "[config]") {
    CHECK_THAT(errorOf(R"({"max_parallel_spawns": "four"})"),
               Equals(kFile + ": 'max_parallel_spawns' must be a positive integer, got string "
                              "\"four\""));
    CHECK_THAT(
        errorOf(R"({"max_parallel_spawns": 4.5})"),
        Equals(kFile + ": 'max_parallel_spawns' must be a positive integer, got number 4.5"));
    CHECK_THAT(errorOf(R"({"max_restarts": true})"),
               Equals(kFile + ": 'max_restarts' must be a non-negative integer, got boolean true"));
    CHECK_THAT(errorOf(R"({"toolstack": 7})"),
               Equals(kFile + ": 'toolstack' must be a string, got number 7"));
    CHECK_THAT(errorOf(R"({"xen_config_dir": ["/etc/xen"]})"),
               Equals(kFile + ": 'xen_config_dir' must be a string, got an array"));
    CHECK_THAT(errorOf(R"({"helpers": {"name": "x"}})"),
               Equals(kFile + ": 'helpers' must be an array of objects, got an object"));
    CHECK_THAT(errorOf(R"({"helpers": ["fs-backend"]})"),
               Equals(kFile + ": 'helpers[0]' must be an object, got string \"fs-backend\""));
    CHECK_THAT(errorOf(R"({"helpers": [{"name": "a", "path": "/b", "args": "-v"}]})"),
               Equals(kFile + ": 'helpers[0].args' must be an array of strings, got string "
                              "\"-v\""));
    CHECK_THAT(errorOf(R"({"helpers": [{"name": "a", "path": "/b", "args": ["-v", 3]}]})"),
               Equals(kFile + ": 'helpers[0].args[1]' must be a string, got number 3"));
    CHECK_THAT(errorOf(R"({"helpers": [{"name": "a", "path": "/b", "enabled": "yes"}]})"),
               Equals(kFile + ": 'helpers[0].enabled' must be true or false, got string \"yes\""));
    CHECK_THAT(errorOf(R"({"on_stubdom_death": "reboot"})"),
               Equals(kFile + ": 'on_stubdom_death' must be one of crash-guest, restart, leave; "
                              "got string \"reboot\""));
    CHECK_THAT(errorOf(R"({"on_stubdom_death": null})"),
               Equals(kFile + ": 'on_stubdom_death' must be one of crash-guest, restart, leave; "
                              "got null"));
    CHECK_THAT(errorOf(R"([1, 2])"),
               Equals(kFile + ": the top level must be a JSON object, got an array"));
}

TEST_CASE("long values are shortened in messages", "[config]") {
    const std::string message = errorOf(R"({"max_restarts": ")" + std::string(200, 'x') + "\"}");
    CHECK_THAT(message, Contains("got string \"xxxx"));
    CHECK_THAT(message, Contains("..."));
    CHECK(message.size() < 150);
}

TEST_CASE("out-of-range values are errors naming the key and the bound", "[config]") {
    CHECK_THAT(errorOf(R"({"max_parallel_spawns": 0})"),
               Equals(kFile + ": 'max_parallel_spawns' must be a positive integer, got number 0"));
    CHECK_THAT(errorOf(R"({"max_parallel_spawns": -3})"),
               Equals(kFile + ": 'max_parallel_spawns' must be a positive integer, got number -3"));
    CHECK_THAT(errorOf(R"({"max_parallel_spawns": 4294967296})"),
               Equals(kFile + ": 'max_parallel_spawns' must be at most 4294967295, got number "
                              "4294967296"));
    CHECK_THAT(errorOf(R"({"start_timeout_ms": 0})"),
               Equals(kFile + ": 'start_timeout_ms' must be a positive integer, got number 0"));
    CHECK_THAT(errorOf(R"({"toolstack_timeout_ms": 86400001})"),
               Equals(kFile + ": 'toolstack_timeout_ms' must be at most 86400000, got number "
                              "86400001"));
    CHECK_THAT(errorOf(R"({"stub_memory_mib": 0})"),
               Equals(kFile + ": 'stub_memory_mib' must be a positive integer, got number 0"));
    CHECK_THAT(errorOf(R"({"max_restarts": -1})"),
               Equals(kFile + ": 'max_restarts' must be a non-negative integer, got number -1"));
    CHECK_THAT(errorOf(R"({"helpers": [{"name": "a", "path": "/b", "start_limit_burst": 0}]})"),
               Equals(kFile +
                      ": 'helpers[0].start_limit_burst' must be a positive integer, got number 0"));
}

TEST_CASE("empty strings and bad helper names are refused", "[config]") {
    CHECK_THAT(errorOf(R"({"stub_kernel": ""})"),
               Equals(kFile + ": 'stub_kernel' must not be empty"));
    CHECK_THAT(errorOf(R"({"helpers": [{"path": "/b"}]})"),
               Equals(kFile + ": 'helpers[0].name' is required"));
    CHECK_THAT(errorOf(R"({"helpers": [{"name": "a"}]})"),
               Equals(kFile + ": 'helpers[0].path' is required"));
    CHECK_THAT(errorOf(R"({"helpers": [{"name": "a/b", "path": "/b"}]})"),
               Equals(kFile + ": 'helpers[0].name' must contain only letters, digits, '-' and "
                              "'_', got string \"a/b\""));
    CHECK_THAT(
        errorOf(R"({"helpers": [{"name": "a", "path": "/b"}, {"name": "a", "path": "/c"}]})"),
        Equals(kFile + ": 'helpers[1].name': helper 'a' is defined twice"));
}

TEST_CASE("JSON syntax errors give the line and column", "[config]") {
    // Line 3 column 20 is the stray 'x'.
    const std::string text = "{\n  \"toolstack\": \"/usr/sbin/xl\",\n  \"max_restarts\": x\n}\n";
    const std::string message = errorOf(text);
    CHECK_THAT(message, Contains(kFile + ":3:19: JSON syntax error: "));
    CHECK_THAT(message, Contains("invalid literal"));
    CHECK_THAT(message, !Contains("json.exception"));

    SECTION("a missing comma: the position is where the parser stopped, the end of \"b\"") {
        CHECK_THAT(errorOf("{\"a\": 1\n \"b\": 2}"), Contains(kFile + ":2:4: JSON syntax error"));
    }
    SECTION("an empty file") {
        CHECK_THAT(errorOf(""), Contains(kFile + ":1:1: JSON syntax error"));
    }
    SECTION("an unterminated object at the end of the file") {
        CHECK_THAT(errorOf("{\n\"toolstack\": \"/x\",\n"),
                   Contains(kFile + ":3:1: JSON syntax error"));
    }
}

TEST_CASE("loadSettings reads a file and names it in errors", "[config]") {
    test::TempDir dir;
    const std::string good = dir.write("good.json", R"({"max_parallel_spawns": 2})");
    CHECK(loadSettings(good).maxParallelSpawns == 2);

    const std::string bad = dir.write("bad.json", R"({"max_parallel_spawns": "four"})");
    CHECK_THROWS_WITH(loadSettings(bad),
                      bad + ": 'max_parallel_spawns' must be a positive integer, got string "
                            "\"four\"");
}

TEST_CASE("a missing file is an error unless the caller accepts defaults", "[config]") {
    test::TempDir dir;
    const std::string missing = dir.path() + "/none.json";
    try {
        loadSettings(missing);
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::InvalidConfig);
        CHECK_THAT(e.what(), Equals("cannot read " + missing + ": No such file or directory"));
    }
    CHECK(loadSettings(missing, IfMissing::UseDefaults).maxParallelSpawns == 4);
}

TEST_CASE("an unreadable file is an error even when defaults are accepted", "[config]") {
    test::TempDir dir;
    SECTION("a directory") {
        CHECK_THROWS_WITH(loadSettings(dir.path(), IfMissing::UseDefaults),
                          "cannot read " + dir.path() + ": not a regular file");
    }
    SECTION("a path through a file") {
        const std::string file = dir.write("file", "{}");
        CHECK_THROWS_WITH(loadSettings(file + "/x", IfMissing::UseDefaults),
                          "cannot read " + file + "/x: Not a directory");
    }
    SECTION("no permission") {
        if (::geteuid() == 0)
            return; // root reads anything; the case is covered when run unprivileged
        const std::string file = dir.write("secret.json", "{}");
        ::chmod(file.c_str(), 0);
        CHECK_THROWS_WITH(loadSettings(file, IfMissing::UseDefaults),
                          "cannot read " + file + ": Permission denied");
    }
}

TEST_CASE("examples/stubdomd.json is valid and spells out the defaults", "[config]") {
    const Settings example = loadSettings(STUBDOMD_SOURCE_ROOT "/examples/stubdomd.json");
    const Settings defaults;
    CHECK(example.toolstack == defaults.toolstack);
    CHECK(example.xenConfigDir == defaults.xenConfigDir);
    CHECK(example.stateDir == defaults.stateDir);
    CHECK(example.runtimeDir == defaults.runtimeDir);
    CHECK(example.stubKernel == defaults.stubKernel);
    CHECK(example.stubMemoryMiB == defaults.stubMemoryMiB);
    CHECK(example.startTimeout == defaults.startTimeout);
    CHECK(example.toolstackTimeout == defaults.toolstackTimeout);
    CHECK(example.maxParallelSpawns == defaults.maxParallelSpawns);
    CHECK(example.onStubdomDeath == defaults.onStubdomDeath);
    CHECK(example.maxRestarts == defaults.maxRestarts);
    CHECK(example.exportsDir == defaults.exportsDir);
    // The example shows the one helper the README needs, with every helper key at its
    // default.
    REQUIRE(example.helpers.size() == 1);
    const HelperSettings& fs = example.helpers[0];
    const HelperSettings helperDefaults;
    CHECK(fs.name == "fs-backend");
    CHECK(fs.path == "/usr/sbin/fs-backend");
    CHECK(fs.args.empty());
    CHECK(fs.enabled == helperDefaults.enabled);
    CHECK(fs.required == helperDefaults.required);
    CHECK(fs.startLimitBurst == helperDefaults.startLimitBurst);
    CHECK(fs.startLimitInterval == helperDefaults.startLimitInterval);
    CHECK(fs.stopTimeout == helperDefaults.stopTimeout);
    CHECK(fs.restartDelay == helperDefaults.restartDelay);
    CHECK(fs.restartDelayMax == helperDefaults.restartDelayMax);
    CHECK(fs.servesExports == defaultFsBackend().servesExports);
    CHECK(example.keymapsDir == defaults.keymapsDir);
    CHECK(example.xenLibDir == defaults.xenLibDir);
    CHECK(example.vchanSocketProxy == defaults.vchanSocketProxy);
    CHECK(example.qmpSocketDir == defaults.qmpSocketDir);
    CHECK(example.qmpTimeout == defaults.qmpTimeout);
    // The Debian package installs this file as /etc/stubdomd/stubdomd.json: every key
    // must be the built-in default, or the package would change what a source install does.
    CHECK(example.defaultFlavour == defaults.defaultFlavour);
    CHECK(example.linuxStubKernel == defaults.linuxStubKernel);
    CHECK(example.linuxStubRootfs == defaults.linuxStubRootfs);
    CHECK(example.linuxStubMemoryMiB == defaults.linuxStubMemoryMiB);
    CHECK(example.linuxStubCmdline == defaults.linuxStubCmdline);
    CHECK(example.logDir == defaults.logDir);
    CHECK(example.xenBootDir == defaults.xenBootDir);
    CHECK(example.grubXenDir == defaults.grubXenDir);
    CHECK(example.pauseOnHostSleep == defaults.pauseOnHostSleep);
}

TEST_CASE("pause_on_host_sleep: on by default, a boolean", "[config]") {
    CHECK(parseSettings("{}", kFile).pauseOnHostSleep);
    CHECK_FALSE(parseSettings(R"({"pause_on_host_sleep": false})", kFile).pauseOnHostSleep);
    CHECK_THAT(errorOf(R"({"pause_on_host_sleep": "yes"})"),
               Contains("'pause_on_host_sleep' must be true or false, got string \"yes\""));
}

TEST_CASE("the QMP keys: the proxy, its socket dir and the QMP timeout", "[config]") {
    const Settings defaults = parseSettings("{}", kFile);
    CHECK(defaults.vchanSocketProxy == "/usr/lib/xen-4.17/bin/vchan-socket-proxy");
    CHECK(defaults.qmpSocketDir == "/run/xen");
    CHECK(defaults.qmpTimeout == std::chrono::milliseconds(5000));
    const Settings s = parseSettings(
        R"({"vchan_socket_proxy": "/opt/proxy", "qmp_socket_dir": "/srv/qmp",
            "qmp_timeout_ms": 250})",
        kFile);
    CHECK(s.vchanSocketProxy == "/opt/proxy");
    CHECK(s.qmpSocketDir == "/srv/qmp");
    CHECK(s.qmpTimeout == std::chrono::milliseconds(250));
    CHECK_THAT(errorOf(R"({"qmp_timeout_ms": 0})"), Contains("qmp_timeout_ms"));
    CHECK_THAT(errorOf(R"({"qmp_timeout_ms": "5s"})"), Contains("'qmp_timeout_ms'"));
    CHECK_THAT(errorOf(R"({"qmp_socket_dir": ""})"),
               Contains("'qmp_socket_dir' must not be empty"));
    CHECK_THAT(errorOf(R"({"vchan_socket_proxy": 1})"),
               Contains("'vchan_socket_proxy' must be a string"));
}

TEST_CASE("the Linux stub domain's settings and the default flavour", "[config][linux]") {
    const Settings defaults;
    CHECK(defaults.defaultFlavour == Flavour::Ioemu);
    CHECK(defaults.linuxStubKernel == "/usr/lib/xen/boot/qemu-stubdom-linux-kernel");
    CHECK(defaults.linuxStubRootfs == "/usr/lib/xen/boot/qemu-stubdom-linux-rootfs");
    CHECK(defaults.linuxStubMemoryMiB == 256);
    CHECK(defaults.linuxStubCmdline == "quiet");
    CHECK(defaults.logDir == "/var/log/xen");

    const Settings s = parseSettings(R"({
        "default_flavour": "linux",
        "linux_stub_kernel": "/srv/k",
        "linux_stub_rootfs": "/srv/r",
        "linux_stub_memory_mib": 160,
        "linux_stub_cmdline": "loglevel=7",
        "log_dir": "/srv/log"
    })",
                                     kFile);
    CHECK(s.defaultFlavour == Flavour::Linux);
    CHECK(s.linuxStubKernel == "/srv/k");
    CHECK(s.linuxStubRootfs == "/srv/r");
    CHECK(s.linuxStubMemoryMiB == 160);
    CHECK(s.linuxStubCmdline == "loglevel=7");
    CHECK(s.logDir == "/srv/log");
    // Empty is no command line at all, what libxl gives a Linux stub by default.
    CHECK(parseSettings(R"({"linux_stub_cmdline": ""})", kFile).linuxStubCmdline.empty());
    CHECK_THAT(errorOf(R"({"linux_stub_cmdline": ["quiet"]})"),
               Equals(kFile + ": 'linux_stub_cmdline' must be a string, got an array"));
    CHECK(parseSettings("{\"linux_stub_cmdline\": \"" + std::string(1023, 'q') + "\"}", kFile)
              .linuxStubCmdline.size() == 1023);
    CHECK_THAT(errorOf("{\"linux_stub_cmdline\": \"" + std::string(1024, 'q') + "\"}"),
               Equals(kFile + ": 'linux_stub_cmdline' must be at most 1023 bytes (Xen's limit "
                              "for a PV kernel's command line), got 1024"));

    CHECK_THAT(errorOf(R"({"default_flavour": "qemu"})"),
               Equals(kFile + ": 'default_flavour' must be one of ioemu, linux; got string "
                              "\"qemu\""));
    CHECK_THAT(errorOf(R"({"default_flavour": "pv-grub"})"),
               Equals(kFile + ": 'default_flavour' must be one of ioemu, linux; got string "
                              "\"pv-grub\""));
    CHECK_THAT(errorOf(R"({"default_flavour": 1})"),
               Equals(kFile + ": 'default_flavour' must be one of ioemu, linux; got number 1"));
    CHECK_THAT(
        errorOf(R"({"linux_stub_memory_mib": 0})"),
        Equals(kFile + ": 'linux_stub_memory_mib' must be a positive integer, got number 0"));
    CHECK_THAT(errorOf(R"({"linux_stub_rootfs": ""})"),
               Equals(kFile + ": 'linux_stub_rootfs' must not be empty"));
    CHECK_THAT(errorOf(R"({"default_flavor": "linux"})"),
               Equals(kFile + ": unknown key 'default_flavor' (did you mean 'default_flavour'?)"));
}

// Found by the settings fuzzer: nlohmann's out_of_range for such a number escaped to
// std::terminate instead of being a clear error (at start and on Reload).
TEST_CASE("a number no double holds is an error naming the file", "[config]") {
    CHECK_THAT(errorOf(R"({"max_parallel_spawns": 8e999})"),
               Equals(kFile + ": JSON: number overflow parsing '8e999'"));
}

TEST_CASE("the stub logs' cap: a default of a few MiB, a floor, a clear error", "[config]") {
    CHECK(Settings{}.stubLogMaxBytes == 4 * 1024 * 1024);
    CHECK(parseSettings(R"({"stub_log_max_bytes": 65536})", kFile).stubLogMaxBytes == 65536);
    CHECK_THAT(errorOf(R"({"stub_log_max_bytes": 100})"),
               Equals(kFile + ": 'stub_log_max_bytes' must be at least 16384, got number 100"));
    CHECK_THAT(errorOf(R"({"stub_log_max_bytes": "4M"})"),
               Equals(kFile + ": 'stub_log_max_bytes' must be a positive integer, got string "
                              "\"4M\""));
}
