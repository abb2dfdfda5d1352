// stubdomd's command line (CLI11). Options override the settings file, which overrides
// the defaults of Settings.hpp.
//
// main() is meant to be:
//     auto startup = stubdomd::parseCommandLine(argc, argv);
//     if (!startup.settings) return startup.exitCode;
//     ... run with *startup.settings ...
#pragma once

#include "config/Settings.hpp"

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <variant>

namespace stubdomd {

// Exit statuses of a start that does not get as far as running.
inline constexpr int kExitUsage = 2;  // bad command line (CLI11's message on stderr)
inline constexpr int kExitConfig = 1; // settings file missing, unreadable or invalid

// What the command line said; unset fields leave the settings file's value.
struct CommandLineOptions {
    std::string configPath;      // kDefaultConfigPath unless --config was given
    bool configExplicit = false; // --config given: a missing file is then an error
    std::optional<std::string> xenConfigDir;
    std::optional<std::string> toolstack;
    std::optional<std::string> runtimeDir;
    std::optional<std::string> stateDir;
    std::optional<std::string> stubKernel;
    std::optional<unsigned> maxParallelSpawns;
    std::optional<StubDeathPolicy> onStubdomDeath;
    std::optional<std::chrono::milliseconds> startTimeout;
    std::optional<std::string> xenBootDir;
    std::optional<std::string> grubXenDir;
};

// Parses argv only (no file access). Returns the options, or the exit status when the
// process should stop now: 0 after --help/--version (printed on `out`), kExitUsage after a
// usage error (CLI11's message on `err`).
std::variant<CommandLineOptions, int> parseArguments(int argc, const char* const* argv,
                                                     std::ostream& out, std::ostream& err);

// Copies the options that were given over `settings`.
Settings applyOverrides(Settings settings, const CommandLineOptions& options);

struct Startup {
    std::optional<Settings> settings; // set: run with these
    int exitCode = 0;                 // when settings is unset
};

// parseArguments, then the settings file (a missing default file is fine, a missing
// --config file is not), then the overrides. Settings-file errors are printed on `err`
// as "stubdomd: <message>" and give kExitConfig.
Startup parseCommandLine(int argc, const char* const* argv, std::ostream& out, std::ostream& err);
Startup parseCommandLine(int argc, const char* const* argv);

} // namespace stubdomd
