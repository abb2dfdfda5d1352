// stubdomctl screenshot NAME FILE.png: the guest's screen through the socket OpenDisplay
// hands over (so it works wherever the caller may open the display, with no route to where
// it is served), read by gtk-vnc and saved as a PNG (VncCapture.hpp).
#include "Context.hpp"
#include "VncCapture.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <memory>

namespace stubdomctl {

using stubdom::Client;

void addScreenshotCommand(CLI::App& app, Context& context) {
    auto* shot = app.add_subcommand(
        "screenshot", "Save a PNG of a guest's screen, read through its display (OpenDisplay)");
    auto reference = std::make_shared<std::string>();
    auto file = std::make_shared<std::string>();
    shot->add_option("guest", *reference, "Guest name, uuid or domain id")->required();
    shot->add_option("file", *file, "The PNG file to write")->required();
    shot->callback([&context, reference, file] {
        context.doing = "take a screenshot of '" + *reference + "'";
        context.run = [&context, reference, file](Client& client) {
            auto guest = findGuest(client, *reference);
            const int fd = client.openDisplay(guest.uuid);
            const auto timeout =
                std::chrono::milliseconds(static_cast<long long>(context.timeoutSeconds * 1000));
            const Capture capture = captureScreen(fd, *file, timeout);
            if (context.json) {
                std::cout << nlohmann::json{{"guest", guest.name},
                                            {"file", *file},
                                            {"width", capture.width},
                                            {"height", capture.height},
                                            {"desktop", capture.desktopName}}
                                 .dump()
                          << '\n';
            } else {
                std::cout << guest.name << ": " << capture.width << "x" << capture.height
                          << " screen saved to " << *file << '\n';
            }
            return 0;
        };
    });
}

} // namespace stubdomctl
