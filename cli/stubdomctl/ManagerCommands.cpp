// stubdomctl reload, version.
#include "Context.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

namespace stubdomctl {

using stubdom::Client;

void addManagerCommands(CLI::App& app, Context& context) {
    auto* reload = app.add_subcommand(
        "reload", "Re-read the stub-domain configurations (running stub domains stay)");
    reload->callback([&context] {
        context.doing = "reload";
        context.run = [](Client& client) {
            client.reload();
            return 0;
        };
    });

    auto* version = app.add_subcommand("version", "Show stubdomd's and Xen's versions");
    version->callback([&context] {
        context.doing = "read stubdomd's version";
        context.run = [&context](Client& client) {
            nlohmann::json json = {{"version", client.version()},
                                   {"xen_version", client.xenVersion()},
                                   {"features", client.features()},
                                   {"toolstack", client.toolstack()}};
            if (context.json) {
                std::cout << json.dump() << '\n';
            } else {
                std::string features;
                for (const auto& feature : json["features"]) {
                    features += (features.empty() ? "" : " ") + feature.get<std::string>();
                }
                std::cout << "stubdomd:  " << json["version"].get<std::string>() << '\n'
                          << "Xen:       " << json["xen_version"].get<std::string>() << '\n'
                          << "Toolstack: " << json["toolstack"].get<std::string>() << '\n'
                          << "Features:  " << features << '\n';
            }
            return 0;
        };
    });
}

} // namespace stubdomctl
