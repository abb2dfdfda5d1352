#include "config/CommandLine.hpp"

#include "config/ConfigFile.hpp"
#include "core/Errors.hpp"
#include "core/Types.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <iostream>
#include <limits>

#ifndef STUBDOMD_VERSION
#define STUBDOMD_VERSION "unknown"
#endif

namespace stubdomd {

std::variant<CommandLineOptions, int> parseArguments(int argc, const char* const* argv,
                                                     std::ostream& out, std::ostream& err) {
    CLI::App app{"stubdomd: spawns and supervises the ioemu stub domains of Xen HVM guests",
                 "stubdomd"};
    app.set_version_flag("--version", std::string("stubdomd ") + STUBDOMD_VERSION);

    CommandLineOptions options;
    options.configPath = kDefaultConfigPath;
    std::string xenConfigDir, toolstack, runtimeDir, stateDir, stubKernel, policy, xenBootDir,
        grubXenDir;
    unsigned maxParallelSpawns = 0;
    std::uint64_t startTimeoutMs = 0;

    auto* config = app.add_option("--config", options.configPath,
                                  "settings file (default " + std::string(kDefaultConfigPath) +
                                      "; a missing default file means built-in defaults)");
    config->type_name("FILE");
    auto* xenDir = app.add_option("--xen-config-dir", xenConfigDir,
                                  "where stubdom-<guest> files are (default /etc/xen)");
    xenDir->type_name("DIR");
    auto* toolstackOpt =
        app.add_option("--toolstack", toolstack, "toolstack command (default /usr/sbin/xl)");
    toolstackOpt->type_name("PATH");
    auto* runtimeOpt = app.add_option("--runtime-dir", runtimeDir,
                                      "generated stub-domain configs (default /run/stubdomd)");
    runtimeOpt->type_name("DIR");
    auto* stateOpt =
        app.add_option("--state-dir", stateDir, "persistent state (default /var/lib/stubdomd)");
    stateOpt->type_name("DIR");
    auto* kernelOpt = app.add_option("--stub-kernel", stubKernel,
                                     "default stub-domain kernel (default "
                                     "/usr/lib/xen/boot/ioemu-stubdom.gz)");
    kernelOpt->type_name("PATH");
    auto* parallelOpt = app.add_option("--max-parallel-spawns", maxParallelSpawns,
                                       "stub domains being spawned at once (default 4)");
    parallelOpt->type_name("N")->check(CLI::Range(1u, std::numeric_limits<unsigned>::max()));
    auto* policyOpt = app.add_option("--on-stubdom-death", policy,
                                     "when a stub domain dies while its guest lives: "
                                     "crash-guest (default), restart or leave");
    policyOpt->type_name("POLICY")->check(CLI::IsMember({"crash-guest", "restart", "leave"}));
    auto* timeoutOpt = app.add_option("--start-timeout-ms", startTimeoutMs,
                                      "how long a stub domain may take to run (default 30000)");
    // Same bound as the settings file: a day.
    timeoutOpt->type_name("N")->check(CLI::Range(std::uint64_t{1}, std::uint64_t{86400000}));

    auto* xenBootOpt = app.add_option("--xen-boot-dir", xenBootDir,
                                      "Xen's PV-GRUB images (default /usr/lib/xen/boot)");
    xenBootOpt->type_name("DIR");
    auto* grubXenOpt = app.add_option("--grub-xen-dir", grubXenDir,
                                      "GRUB 2's Xen images (default /usr/lib/grub-xen)");
    grubXenOpt->type_name("DIR");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int status = app.exit(e, out, err);
        return status == 0 ? 0 : kExitUsage;
    }

    options.configExplicit = config->count() > 0;
    if (xenDir->count())
        options.xenConfigDir = xenConfigDir;
    if (toolstackOpt->count())
        options.toolstack = toolstack;
    if (runtimeOpt->count())
        options.runtimeDir = runtimeDir;
    if (stateOpt->count())
        options.stateDir = stateDir;
    if (kernelOpt->count())
        options.stubKernel = stubKernel;
    if (parallelOpt->count())
        options.maxParallelSpawns = maxParallelSpawns;
    if (policyOpt->count())
        options.onStubdomDeath = stubDeathPolicyFromString(policy);
    if (timeoutOpt->count())
        options.startTimeout = std::chrono::milliseconds(startTimeoutMs);
    if (xenBootOpt->count())
        options.xenBootDir = xenBootDir;
    if (grubXenOpt->count())
        options.grubXenDir = grubXenDir;
    return options;
}

Settings applyOverrides(Settings settings, const CommandLineOptions& options) {
    if (options.xenConfigDir)
        settings.xenConfigDir = *options.xenConfigDir;
    if (options.toolstack)
        settings.toolstack = *options.toolstack;
    if (options.runtimeDir)
        settings.runtimeDir = *options.runtimeDir;
    if (options.stateDir)
        settings.stateDir = *options.stateDir;
    if (options.stubKernel)
        settings.stubKernel = *options.stubKernel;
    if (options.maxParallelSpawns)
        settings.maxParallelSpawns = *options.maxParallelSpawns;
    if (options.onStubdomDeath)
        settings.onStubdomDeath = *options.onStubdomDeath;
    if (options.startTimeout)
        settings.startTimeout = *options.startTimeout;
    if (options.xenBootDir)
        settings.xenBootDir = *options.xenBootDir;
    if (options.grubXenDir)
        settings.grubXenDir = *options.grubXenDir;
    return settings;
}

Startup parseCommandLine(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
    auto parsed = parseArguments(argc, argv, out, err);
    if (const int* status = std::get_if<int>(&parsed))
        return Startup{std::nullopt, *status};
    const auto& options = std::get<CommandLineOptions>(parsed);
    try {
        Settings settings = loadSettings(
            options.configPath, options.configExplicit ? IfMissing::Error : IfMissing::UseDefaults);
        return Startup{applyOverrides(std::move(settings), options), 0};
    } catch (const Error& e) {
        err << "stubdomd: " << e.what() << '\n';
        return Startup{std::nullopt, kExitConfig};
    }
}

Startup parseCommandLine(int argc, const char* const* argv) {
    return parseCommandLine(argc, argv, std::cout, std::cerr);
}

} // namespace stubdomd
