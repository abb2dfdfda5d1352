// stubdomctl logs: a guest's stub console log, read through stubdomd, so that polkit
// decides who may read it (the file itself is root's); -f then follows it.
#include "Context.hpp"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <unistd.h>

namespace stubdomctl {

namespace {

// Copies what stubdomd sends on `fd` to stdout until it cuts the stream off.
int follow(int fd) {
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n > 0) {
            std::cout.write(buffer, n);
            std::cout.flush();
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        const int error = n < 0 ? errno : 0;
        ::close(fd);
        if (error != 0) {
            std::cerr << "stubdomctl: following the log: " << std::strerror(error) << std::endl;
            return 1;
        }
        // stubdomd cut the stream off (a reader that fell behind, or the daemon stopped).
        std::cerr << "stubdomctl: stubdomd ended the log stream" << std::endl;
        return 1;
    }
}

} // namespace

void addLogsCommand(CLI::App& app, Context& context) {
    auto* logs = app.add_subcommand(
        "logs", "Show the last lines of the guest's stub console log (its kernel, init, QEMU)");
    auto reference = std::make_shared<std::string>();
    auto lines = std::make_shared<std::uint32_t>(50);
    auto following = std::make_shared<bool>(false);
    logs->add_option("guest", *reference, "Guest name, uuid or domain id")->required();
    logs->add_option("-n,--lines", *lines, "How many lines (1 to 10000, default 50)")
        ->check(CLI::Range(1u, 10000u));
    logs->add_flag("-f,--follow", *following, "Then print what the stub prints, until interrupted");
    logs->callback([&context, reference, lines, following] {
        context.doing = "read the console log of '" + *reference + "'";
        context.run = [reference, lines, following](stubdom::Client& client) {
            auto guest = findGuest(client, *reference);
            // The stream first, then the lines before it: a line written in between may
            // show twice, none goes missing.
            const int fd = *following ? client.followConsoleLog(guest.uuid) : -1;
            for (const auto& line : client.consoleLog(guest.uuid, *lines))
                std::cout << line << '\n';
            std::cout.flush();
            return fd < 0 ? 0 : follow(fd);
        };
    });
}

} // namespace stubdomctl
