// What stubdomctl's command groups share: the global options, and the one action the
// command line selected, run by main() once a Client exists (so --help and usage
// errors never need the bus).
#pragma once

#include <stubdom-client/Client.hpp>

#include <CLI/CLI.hpp>

#include <functional>
#include <stdexcept>
#include <string>

namespace stubdomctl {

struct Context {
    bool json = false;
    double timeoutSeconds = 60;
    // Set by the selected subcommand; returns the exit status.
    std::function<int(stubdom::Client&)> run;
    // For error messages: what the command was doing, e.g. "start 'hvmconfig'".
    std::string doing;
};

// Each adds its subcommands to `app`.
void addGuestCommands(CLI::App& app, Context& context);
void addManagerCommands(CLI::App& app, Context& context);
void addHelperCommands(CLI::App& app, Context& context);
void addMonitorCommand(CLI::App& app, Context& context);
void addPvGrubCommands(CLI::App& app, Context& context);
void addDisplayCommands(CLI::App& app, Context& context);
void addLogsCommand(CLI::App& app, Context& context);
void addConsoleCommand(CLI::App& app, Context& context);
void addScreenshotCommand(CLI::App& app, Context& context); // only with gtk-vnc

// A guest or helper the user named does not exist: reported as its message alone.
struct NotFound : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The guest named NAME, with uuid UUID, or with domain id DOMID (its own or its stub
// domain's). Throws NotFound with a message naming what was asked for.
stubdom::GuestInfo findGuest(stubdom::Client& client, const std::string& reference);

} // namespace stubdomctl
