// stubdom-dm: the device model the toolstack runs in dom0 for a guest whose stub domain
// stubdomd runs. It asks stubdomd to attach the guest, then stands in for qemu as the
// toolstack's device-model process until the guest is gone (exit 0), its stub domain
// fails (exit 1), or the toolstack tells it to stop (SIGTERM/SIGHUP: Stop, exit 0).
#include "DmArgs.hpp"

#include "common/SignalFd.hpp"

#include <stubdom-client/Client.hpp>

#include <poll.h>

#include <cstring>

#include <iostream>
#include <optional>

namespace {

using stubdom::GuestInfo;
using stubdom::dm::DmArgs;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
// On SIGTERM the toolstack waits for us a little, not for a slow stop.
constexpr stubdom::Timeout kStopTimeout{std::chrono::seconds(10)};
// Attach answers when the stub domain runs or fails, which stubdomd bounds itself
// (start_timeout_ms). The bus's default of 25 s is shorter than a Linux stub's start under
// emulation (seen on real Xen in TCG: "cannot attach: Method call timed out" while the stub
// was still booting); signals still reach us meanwhile.
constexpr stubdom::Timeout kAttachTimeout{std::chrono::hours(1)};

std::string describe(const DmArgs& args) {
    std::string text = "domain " + std::to_string(args.domid);
    if (!args.domainName.empty()) {
        text += " (" + args.domainName + ")";
    }
    return text;
}

// The display settings the toolstack gave us, as Attach's options; what it did not say
// stays unset, so the guest's own config decides.
stubdom::AttachOptions attachOptions(const stubdom::dm::DisplayArgs& display) {
    stubdom::AttachOptions options;
    if (display.vnc) {
        options.vnc = true;
        options.vnclisten = *display.vnc; // ADDR:DISPLAY
    }
    if (display.vncUnused) {
        options.vncunused = true;
    }
    if (display.sdl) {
        options.sdl = true;
    }
    options.keymap = display.keymap;
    options.videoram = display.videoramMiB;
    return options;
}

std::string explain(const stubdom::Error& e) {
    if (dynamic_cast<const stubdom::BusUnavailable*>(&e) != nullptr) {
        return e.message();
    }
    if (dynamic_cast<const stubdom::ServiceUnavailable*>(&e) != nullptr) {
        return "stubdomd is not running (org.xen.Stubdom is not on the system bus)";
    }
    return e.message().empty() ? e.name() : e.message();
}

class Session {
public:
    explicit Session(const DmArgs& args) : args_(args) {}

    int run() {
        stubdom::cli::SignalFd signals{SIGTERM, SIGHUP, SIGINT};
        // Subscribe before attaching, so a failure right after the reply is not missed.
        client_.onGuestRemoved([this](const GuestInfo& g) {
            if (g.path == path_) {
                log("the guest is gone");
                finish(kExitOk);
            }
        });
        client_.onGuestChanged([this](const GuestInfo& g, const std::vector<std::string>&) {
            if (g.path == path_ && g.state == "failed") {
                log("the stub domain failed: " +
                    (g.stateReason.empty() ? g.lastError : g.stateReason));
                finish(kExitFailed);
            }
        });
        client_.onServiceChanged([this](bool running) {
            log(running ? "stubdomd is back" : "stubdomd went away; waiting for it");
        });
        client_.watch();
        client_.attachAsync(
            args_.domid, attachOptions(args_.display),
            [this](const std::string& path, std::exception_ptr e) { attached(path, e); },
            kAttachTimeout);

        while (!exit_) {
            auto bus = client_.pollInfo();
            pollfd fds[2] = {{bus.fd, bus.events, 0}, {signals.fd(), POLLIN, 0}};
            if (poll(fds, 2, bus.timeoutMs) < 0 && errno != EINTR) {
                throw std::system_error(errno, std::generic_category(), "poll");
            }
            if (fds[1].revents & POLLIN) {
                if (int signal = signals.take(); signal != 0) {
                    stopOnSignal(signal);
                    return kExitOk;
                }
            }
            client_.processEvents(stubdom::Timeout{0});
        }
        return *exit_;
    }

private:
    void log(const std::string& message) const {
        // The toolstack sends our stderr to its device-model log.
        std::cerr << "stubdom-dm: " << describe(args_) << ": " << message << std::endl;
    }

    void finish(int status) {
        if (!exit_) {
            exit_ = status;
        }
    }

    void attached(const std::string& path, std::exception_ptr error) {
        if (error) {
            try {
                std::rethrow_exception(error);
            } catch (const stubdom::Error& e) {
                log("cannot attach: " + explain(e));
            }
            finish(kExitFailed);
            return;
        }
        path_ = path;
        try {
            auto guest = client_.guestAtPath(path);
            log("stub domain " + std::to_string(guest.stubDomid) + " is " + guest.state);
            if (guest.state == "failed") {
                log("the stub domain failed: " + guest.stateReason);
                finish(kExitFailed);
            }
        } catch (const stubdom::NoSuchGuest&) {
            log("the guest is gone");
            finish(kExitOk);
        }
    }

    void stopOnSignal(int signal) {
        log(std::string("stopping the stub domain on ") + strsignal(signal));
        try {
            auto path = path_.empty() ? client_.guestByDomid(args_.domid).path : path_;
            client_.stopAtPath(path, kStopTimeout);
        } catch (const stubdom::NoSuchGuest&) {
            // Already gone with its guest: nothing to stop.
        } catch (const stubdom::InvalidState&) {
            // No stub domain running: nothing to stop.
        } catch (const stubdom::Error& e) {
            log("could not stop the stub domain: " + explain(e));
        }
    }

    const DmArgs& args_;
    stubdom::Client client_;
    std::string path_;
    std::optional<int> exit_;
};

} // namespace

int main(int argc, char** argv) {
    DmArgs args;
    try {
        args = stubdom::dm::parseDmArgs(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const stubdom::dm::UsageError& e) {
        std::cerr << "stubdom-dm: " << e.what() << "\n\n" << stubdom::dm::usage();
        return kExitUsage;
    }
    if (args.help) {
        std::cout << stubdom::dm::usage();
        return kExitOk;
    }
    try {
        Session session(args);
        return session.run();
    } catch (const stubdom::Error& e) {
        std::cerr << "stubdom-dm: " << describe(args) << ": " << explain(e) << std::endl;
        return kExitFailed;
    } catch (const std::exception& e) {
        std::cerr << "stubdom-dm: " << describe(args) << ": " << e.what() << std::endl;
        return kExitFailed;
    }
}
