// stubdomctl monitor: one line per guest added, removed or changed (and per coming and
// going of stubdomd) until SIGINT or SIGTERM.
#include "Context.hpp"
#include "Format.hpp"

#include "common/SignalFd.hpp"

#include <poll.h>

#include <cerrno>
#include <iostream>
#include <system_error>

namespace stubdomctl {

using stubdom::Client;
using stubdom::GuestInfo;

namespace {

void emit(const nlohmann::json& json) {
    std::cout << json.dump() << std::endl;
}

void watchEvents(Client& client, bool json) {
    client.onGuestAdded([json](const GuestInfo& g) {
        if (json) {
            emit({{"event", "added"}, {"guest", toJson(g)}});
        } else {
            std::cout << "added " << g.name << " domid=" << g.domid << " state=" << g.state
                      << std::endl;
        }
    });
    client.onGuestRemoved([json](const GuestInfo& g) {
        if (json) {
            emit({{"event", "removed"}, {"guest", toJson(g)}});
        } else {
            std::cout << "removed " << g.name << " domid=" << g.domid << std::endl;
        }
    });
    client.onGuestChanged([json](const GuestInfo& g, const std::vector<std::string>& changed) {
        if (json) {
            emit({{"event", "changed"},
                  {"changed", propertiesToJson(g, changed)},
                  {"guest", toJson(g)}});
        } else {
            std::cout << "changed " << g.name;
            for (const auto& property : changed) {
                std::cout << ' ' << property << '=' << propertyText(g, property);
            }
            std::cout << std::endl;
        }
    });
    client.onServiceChanged([json](bool running) {
        if (json) {
            emit({{"event", running ? "service-started" : "service-stopped"}});
        } else {
            std::cout << (running ? "stubdomd started" : "stubdomd stopped") << std::endl;
        }
    });
}

} // namespace

void addMonitorCommand(CLI::App& app, Context& context) {
    auto* monitor = app.add_subcommand(
        "monitor", "Print every guest added, removed or changed until interrupted");
    monitor->callback([&context] {
        context.doing = "monitor stubdomd";
        context.run = [&context](Client& client) {
            stubdom::cli::SignalFd signals{SIGINT, SIGTERM};
            watchEvents(client, context.json);
            auto guests = client.watch();
            // On stderr, so stdout stays the events alone; tests wait for this line.
            if (client.serviceRunning()) {
                std::cerr << "stubdomctl: monitoring " << guests.size()
                          << " guest(s); Ctrl-C to stop" << std::endl;
            } else {
                std::cerr << "stubdomctl: stubdomd is not running; waiting for it" << std::endl;
            }
            while (true) {
                auto bus = client.pollInfo();
                pollfd fds[2] = {{bus.fd, bus.events, 0}, {signals.fd(), POLLIN, 0}};
                if (poll(fds, 2, bus.timeoutMs) < 0 && errno != EINTR) {
                    throw std::system_error(errno, std::generic_category(), "poll");
                }
                if (fds[1].revents & POLLIN) {
                    return 0;
                }
                client.processEvents(stubdom::Timeout{0});
            }
        };
    });
}

} // namespace stubdomctl
