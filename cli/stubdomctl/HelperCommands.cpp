// stubdomctl helpers, helper start|stop|restart NAME.
#include "Context.hpp"
#include "Format.hpp"

#include <iostream>

namespace stubdomctl {

using stubdom::Client;

void addHelperCommands(CLI::App& app, Context& context) {
    auto* helpers = app.add_subcommand("helpers", "List the dom0 helpers stubdomd supervises");
    helpers->callback([&context] {
        context.doing = "list helpers";
        context.run = [&context](Client& client) {
            auto list = client.helpers();
            if (context.json) {
                auto json = nlohmann::json::array();
                for (const auto& helper : list) {
                    json.push_back(toJson(helper));
                }
                std::cout << json.dump() << '\n';
            } else {
                printHelperTable(std::cout, list);
            }
            return 0;
        };
    });

    auto* helper = app.add_subcommand("helper", "Start, stop or restart a supervised helper");
    helper->require_subcommand(1);
    using Call = void (Client::*)(const std::string&, std::optional<stubdom::Timeout>);
    const std::vector<std::tuple<std::string, std::string, Call>> verbs = {
        {"start", "Start the helper; waits until its process runs", &Client::helperStart},
        {"stop", "Stop the helper and keep it stopped until started", &Client::helperStop},
        {"restart", "Stop, then start the helper", &Client::helperRestart},
    };
    for (const auto& [verb, help, call] : verbs) {
        auto* command = helper->add_subcommand(verb, help);
        auto name = std::make_shared<std::string>();
        command->add_option("name", *name, "The helper's name, e.g. fs-backend")->required();
        command->callback([&context, verb = verb, call = call, name] {
            context.doing = verb + " helper '" + *name + "'";
            context.run = [&context, name, call](Client& client) {
                (client.*call)(*name, std::nullopt);
                auto now = client.helper(*name);
                if (context.json) {
                    std::cout << toJson(now).dump() << '\n';
                } else {
                    std::cout << now.name << ": " << now.state << '\n';
                }
                return 0;
            };
        });
    }
}

} // namespace stubdomctl
