// stubdomctl: the administrator's command line for stubdomd.
// Exit status: 0 done, 1 failed (an error from stubdomd, not found, not running), 2 usage.
#include "Context.hpp"

#include <sdbus-c++/Error.h>

#include <iostream>

namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// The short form of an error name, for the end of a message: "(TimedOut)".
std::string shortName(const std::string& name) {
    auto dot = name.rfind('.');
    return dot == std::string::npos ? name : name.substr(dot + 1);
}

int fail(const std::string& message) {
    std::cerr << "stubdomctl: " << message << std::endl;
    return kExitFailed;
}

int report(const stubdomctl::Context& context, const stubdom::Error& e) {
    if (dynamic_cast<const stubdom::BusUnavailable*>(&e) != nullptr) {
        return fail(e.message());
    }
    if (dynamic_cast<const stubdom::ServiceUnavailable*>(&e) != nullptr) {
        return fail("stubdomd is not running (org.xen.Stubdom is not on the system bus)");
    }
    if (dynamic_cast<const stubdom::AccessDenied*>(&e) != nullptr) {
        return fail("permission denied: " + e.message());
    }
    if (dynamic_cast<const stubdom::NoSuchHelper*>(&e) != nullptr) {
        return fail(e.message());
    }
    return fail("cannot " + context.doing + ": " + e.message() + " (" + shortName(e.name()) + ")");
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Control stubdomd, the ioemu stub-domain daemon for Xen HVM guests"};
    app.name("stubdomctl");
    app.require_subcommand(1);
    app.fallthrough(); // global options also after the subcommand
    stubdomctl::Context context;
    app.add_flag("--json", context.json, "Print JSON (one object per line for monitor)");
    app.add_option("--timeout", context.timeoutSeconds,
                   "Seconds to wait for stubdomd's reply (default 60; start and attach "
                   "reply only once the stub domain runs)")
        ->check(CLI::PositiveNumber);
    stubdomctl::addGuestCommands(app, context);
    stubdomctl::addDisplayCommands(app, context);
    stubdomctl::addLogsCommand(app, context);
    stubdomctl::addConsoleCommand(app, context);
#ifdef STUBDOMCTL_SCREENSHOT
    stubdomctl::addScreenshotCommand(app, context);
#endif
    stubdomctl::addManagerCommands(app, context);
    stubdomctl::addHelperCommands(app, context);
    stubdomctl::addMonitorCommand(app, context);
    stubdomctl::addPvGrubCommands(app, context);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return kExitUsage;
    }
    if (!context.run) {
        return kExitUsage;
    }

    try {
        stubdom::Client client;
        client.setTimeout(std::chrono::duration_cast<stubdom::Timeout>(
            std::chrono::duration<double>(context.timeoutSeconds)));
        return context.run(client);
    } catch (const stubdomctl::NotFound& e) {
        return fail(e.what());
    } catch (const stubdom::Error& e) {
        return report(context, e);
    } catch (const sdbus::Error& e) {
        return fail("cannot " + context.doing + ": " + e.getMessage() + " (" +
                    shortName(e.getName()) + ")");
    } catch (const std::exception& e) {
        return fail("cannot " + context.doing + ": " + e.what());
    }
}
