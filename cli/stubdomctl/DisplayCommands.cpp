// stubdomctl display (show, set, password) and vnc.
#include "Context.hpp"

#include <nlohmann/json.hpp>

#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <memory>

namespace stubdomctl {

using stubdom::Client;
using stubdom::DisplayInfo;

namespace {

constexpr int kVncBasePort = 5900;

nlohmann::json toJson(const DisplayInfo& display) {
    return {{"mode", display.mode},
            {"address", display.address},
            {"port", display.port},
            {"password-set", display.passwordSet},
            {"uri", display.uri}};
}

void printDisplay(std::ostream& out, const std::string& name, const DisplayInfo& display) {
    out << "Guest: " << name << '\n';
    out << "Mode: " << display.mode << '\n';
    out << "Address: " << (display.address.empty() ? "-" : display.address) << '\n';
    out << "Port: " << (display.port < 0 ? std::string("-") : std::to_string(display.port)) << '\n';
    out << "Password: " << (display.passwordSet ? "set" : "not set") << '\n';
    out << "URI: " << (display.uri.empty() ? "-" : display.uri) << '\n';
}

// The password, from stdin only (argv is visible in ps): its first line, without the
// newline. From a terminal it is asked for without echo.
std::string readPassword() {
    termios saved{};
    const bool tty = tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        std::cerr << "VNC password: " << std::flush;
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    std::string password;
    std::getline(std::cin, password);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        std::cerr << '\n';
    }
    if (!password.empty() && password.back() == '\r') {
        password.pop_back();
    }
    return password;
}

struct SetArgs {
    std::string mode;
    std::string listen;
    std::uint32_t vncdisplay = 0;
    bool unused = false;
    std::string keymap;
    CLI::Option* listenOption = nullptr;
    CLI::Option* vncdisplayOption = nullptr;
    CLI::Option* keymapOption = nullptr;
};

} // namespace

void addDisplayCommands(CLI::App& app, Context& context) {
    auto* display = app.add_subcommand(
        "display", "Show a guest's display, or choose its mode or VNC password for the next "
                   "start of its stub domain");
    display->require_subcommand(0, 1);
    auto reference = std::make_shared<std::string>();
    display->add_option("guest", *reference, "Guest name, uuid or domain id")->required();

    auto* set = display->add_subcommand(
        "set", "Choose the display mode (none, sdl, vnc-stubdom, vnc-dom0) for the next start "
               "of the stub domain; restart applies it");
    auto args = std::make_shared<SetArgs>();
    set->add_option("mode", args->mode, "none, sdl, vnc-stubdom or vnc-dom0")
        ->required()
        ->check(CLI::IsMember({"none", "sdl", "vnc-stubdom", "vnc-dom0"}));
    args->listenOption = set->add_option(
        "--listen", args->listen,
        "IP address to listen on (vnc-stubdom: the stub's own; vnc-dom0: default 127.0.0.1)");
    args->vncdisplayOption =
        set->add_option("--vncdisplay", args->vncdisplay, "VNC display number (port 5900 + N)")
            ->check(CLI::Range(0, 65535 - kVncBasePort));
    set->add_flag("--unused", args->unused, "Take the next free VNC port (vnc-dom0 only)")
        ->excludes(args->vncdisplayOption);
    args->keymapOption = set->add_option("--keymap", args->keymap, "Keyboard layout, e.g. en-us");

    auto* password = display->add_subcommand(
        "password", "Set the VNC password for the next start of the stub domain, read from "
                    "stdin (its first line; an empty one removes it)");

    display->callback([&context, reference, set, password, args] {
        if (set->parsed()) {
            context.doing = "set the display of '" + *reference + "'";
            context.run = [&context, reference, args](Client& client) {
                auto guest = findGuest(client, *reference);
                stubdom::DisplayOptions options;
                if (*args->listenOption) {
                    options.address = args->listen;
                }
                if (*args->vncdisplayOption) {
                    options.port = kVncBasePort + static_cast<std::int32_t>(args->vncdisplay);
                }
                if (args->unused) {
                    options.port = -1;
                }
                if (*args->keymapOption) {
                    options.keymap = args->keymap;
                }
                client.setDisplay(guest.uuid, args->mode, options);
                if (!context.json) {
                    std::cout << guest.name << ": display " << args->mode
                              << " from the next start (restart applies it)\n";
                }
                return 0;
            };
        } else if (password->parsed()) {
            context.doing = "set the VNC password of '" + *reference + "'";
            context.run = [reference](Client& client) {
                auto guest = findGuest(client, *reference);
                auto secret = readPassword();
                client.setDisplayPassword(guest.uuid, secret);
                std::cout << guest.name << ": VNC password " << (secret.empty() ? "removed" : "set")
                          << " from the next start (restart applies it)\n";
                return 0;
            };
        } else {
            context.doing = "show the display of '" + *reference + "'";
            context.run = [&context, reference](Client& client) {
                auto guest = findGuest(client, *reference);
                auto info = client.getDisplay(guest.uuid);
                if (context.json) {
                    std::cout << toJson(info).dump() << '\n';
                } else {
                    printDisplay(std::cout, guest.name, info);
                }
                return 0;
            };
        }
    });

    auto* vnc = app.add_subcommand("vnc", "Print the vnc:// URI of a guest's display");
    auto vncRef = std::make_shared<std::string>();
    vnc->add_option("guest", *vncRef, "Guest name, uuid or domain id")->required();
    vnc->callback([&context, vncRef] {
        context.doing = "show the VNC address of '" + *vncRef + "'";
        context.run = [vncRef](Client& client) {
            auto guest = findGuest(client, *vncRef);
            auto info = client.getDisplay(guest.uuid);
            if (info.uri.empty()) {
                std::cerr << "stubdomctl: " << guest.name << " has no VNC address (display "
                          << info.mode
                          << (info.mode.rfind("vnc", 0) == 0 ? ", port not known yet" : "") << ")"
                          << std::endl;
                return 1;
            }
            std::cout << info.uri << '\n';
            return 0;
        };
    });
}

} // namespace stubdomctl
