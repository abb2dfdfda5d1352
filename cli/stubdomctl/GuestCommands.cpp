// stubdomctl list, status, start, stop, restart, pause, resume, attach.
#include "Context.hpp"
#include "Format.hpp"

#include <unistd.h>

#include <iostream>

namespace stubdomctl {

using stubdom::Client;
using stubdom::GuestInfo;

namespace {

// The guest with what its stub domain uses now: a listener's descriptor makes stubdomd read
// it (WatchResources answers after the first reading), held only while the guest is read.
// Without it (an older stubdomd, or too many listeners) the guest is shown as it is.
GuestInfo withResources(Client& client, const GuestInfo& guest) {
    if (guest.stubDomid == 0) {
        return guest;
    }
    try {
        const int fd = client.watchResources(guest.uuid);
        GuestInfo now;
        try {
            now = client.guestAtPath(guest.path);
        } catch (...) {
            ::close(fd);
            throw;
        }
        ::close(fd);
        return now;
    } catch (const stubdom::Error&) {
        return guest;
    }
}

bool allDigits(const std::string& text) {
    return !text.empty() && text.size() <= 10 &&
           text.find_first_not_of("0123456789") == std::string::npos;
}

void printResult(Context& context, const GuestInfo& guest) {
    if (context.json) {
        std::cout << toJson(guest).dump() << '\n';
    } else {
        std::cout << guest.name << ": " << guest.state;
        if (guest.stubDomid != 0) {
            std::cout << " (stub domain " << guest.stubDomid << ")";
        }
        std::cout << '\n';
    }
}

// start, stop, restart, pause and resume differ only in the call; each then shows the
// guest's state.
void addLifecycle(CLI::App& app, Context& context, const std::string& verb, const std::string& help,
                  void (Client::*call)(const std::string&, std::optional<stubdom::Timeout>)) {
    auto* command = app.add_subcommand(verb, help);
    auto reference = std::make_shared<std::string>();
    command->add_option("guest", *reference, "Guest name, uuid or domain id")->required();
    command->callback([&context, verb, reference, call] {
        context.doing = verb + " '" + *reference + "'";
        context.run = [&context, reference, call](Client& client) {
            auto guest = findGuest(client, *reference);
            (client.*call)(guest.uuid, std::nullopt);
            printResult(context, client.guestAtPath(guest.path));
            return 0;
        };
    });
}

// start and restart: a lifecycle call with Start's options.
void addStart(CLI::App& app, Context& context, const std::string& verb, const std::string& help,
              void (Client::*call)(const std::string&, const stubdom::StartOptions&,
                                   std::optional<stubdom::Timeout>)) {
    auto* command = app.add_subcommand(verb, help);
    auto reference = std::make_shared<std::string>();
    auto memory = std::make_shared<std::string>();
    command->add_option("guest", *reference, "Guest name, uuid or domain id")->required();
    auto* memoryOption = command->add_option(
        "--stub-memory", *memory,
        "The stub domain's memory for this start and its automatic restarts (500M, 1G; a "
        "plain number is MiB); default: the stub config's");
    command->callback([&context, verb, reference, memory, memoryOption, call] {
        context.doing = verb + " '" + *reference + "'";
        context.run = [&context, reference, memory, memoryOption, call](Client& client) {
            auto guest = findGuest(client, *reference);
            stubdom::StartOptions options;
            if (memoryOption->count() > 0) {
                options.stubMemory = *memory;
            }
            (client.*call)(guest.uuid, options, std::nullopt);
            printResult(context, client.guestAtPath(guest.path));
            return 0;
        };
    });
}

} // namespace

GuestInfo findGuest(Client& client, const std::string& reference) {
    try {
        if (!allDigits(reference)) {
            return client.guest(reference);
        }
        try {
            return client.guestByDomid(static_cast<std::uint32_t>(std::stoul(reference)));
        } catch (const stubdom::NoSuchGuest&) {
            return client.guest(reference); // a guest may be named "7"
        }
    } catch (const stubdom::NoSuchGuest&) {
        throw NotFound(allDigits(reference) ? "no guest with domid " + reference
                                            : "no guest named '" + reference + "'");
    }
}

void addGuestCommands(CLI::App& app, Context& context) {
    auto* list = app.add_subcommand("list", "List every guest stubdomd knows");
    list->callback([&context] {
        context.doing = "list guests";
        context.run = [&context](Client& client) {
            auto guests = client.listGuests();
            if (context.json) {
                auto json = nlohmann::json::array();
                for (const auto& guest : guests) {
                    json.push_back(toJson(guest));
                }
                std::cout << json.dump() << '\n';
            } else {
                printGuestTable(std::cout, guests);
            }
            return 0;
        };
    });

    auto* status = app.add_subcommand("status", "Show one guest and its stub domain");
    auto statusRef = std::make_shared<std::string>();
    status->add_option("guest", *statusRef, "Guest name, uuid or domain id")->required();
    status->callback([&context, statusRef] {
        context.doing = "show '" + *statusRef + "'";
        context.run = [&context, statusRef](Client& client) {
            auto guest = withResources(client, findGuest(client, *statusRef));
            if (context.json) {
                std::cout << toJson(guest).dump() << '\n';
            } else {
                printGuestStatus(std::cout, guest);
            }
            return 0;
        };
    });

    addStart(app, context, "start", "Spawn the guest's stub domain; waits until it runs",
             &Client::start);
    addLifecycle(app, context, "stop",
                 "Destroy the guest's stub domain (the guest itself is left alone)", &Client::stop);
    addStart(app, context, "restart", "Stop, then start the guest's stub domain", &Client::restart);
    addLifecycle(app, context, "pause",
                 "Pause the guest, then its stub domain (both stay paused through a host sleep)",
                 &Client::pause);
    addLifecycle(app, context, "resume", "Resume the guest's stub domain, then the guest",
                 &Client::resume);

    auto* attach = app.add_subcommand(
        "attach", "Manage this HVM domain now (what stubdom-dm does); waits until it runs");
    auto domid = std::make_shared<std::uint32_t>();
    attach->add_option("domid", *domid, "The HVM guest's domain id")->required();
    attach->callback([&context, domid] {
        context.doing = "attach domain " + std::to_string(*domid);
        context.run = [&context, domid](Client& client) {
            printResult(context, client.attach(*domid));
            return 0;
        };
    });
}

} // namespace stubdomctl
