// stubdomctl console NAME: the terminal attached to a guest's console through the PTY that
// OpenConsole hands over, as `machinectl login` attaches one: the terminal raw (keys go to
// the guest as typed, ^C included), copying both ways until ^] (0x1d) is typed, the console
// ends (the stub stopped), or, without a terminal on stdin, stdin ends. The terminal's mode
// is restored on every way out: leaving, the console ending, an error (exception), and
// SIGTERM/SIGHUP/SIGINT/SIGQUIT (caught, so the restore runs).
#include "Context.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <memory>
#include <optional>
#include <poll.h>
#include <stdexcept>
#include <termios.h>
#include <unistd.h>

namespace stubdomctl {

namespace {

constexpr char kLeave = 0x1d; // ^]

// The terminal's mode while the console is attached; the old one back when it goes.
class RawTerminal {
public:
    explicit RawTerminal(int fd) : fd_(fd) {
        if (::tcgetattr(fd_, &saved_) != 0)
            throw std::runtime_error(std::string("reading the terminal's mode: ") +
                                     std::strerror(errno));
        termios raw = saved_;
        ::cfmakeraw(&raw);
        if (::tcsetattr(fd_, TCSANOW, &raw) != 0)
            throw std::runtime_error(std::string("making the terminal raw: ") +
                                     std::strerror(errno));
    }
    ~RawTerminal() { ::tcsetattr(fd_, TCSANOW, &saved_); }
    RawTerminal(const RawTerminal&) = delete;
    RawTerminal& operator=(const RawTerminal&) = delete;

private:
    int fd_;
    termios saved_{};
};

// A signal that would end the process ends the copy loop instead, through this pipe, so
// that the terminal is restored before exiting; the old handlers come back afterwards.
int signalPipe[2] = {-1, -1};
extern "C" void onSignal(int signal) {
    const int saved = errno;
    const char byte = static_cast<char>(signal);
    [[maybe_unused]] const ssize_t n = ::write(signalPipe[1], &byte, 1);
    errno = saved;
}

class CaughtSignals {
public:
    CaughtSignals() {
        if (::pipe2(signalPipe, O_CLOEXEC | O_NONBLOCK) != 0)
            throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
        struct sigaction action {};
        action.sa_handler = onSignal;
        ::sigemptyset(&action.sa_mask);
        for (std::size_t i = 0; i < kCount; i++)
            ::sigaction(kSignals[i], &action, &old_[i]);
    }
    ~CaughtSignals() {
        for (std::size_t i = 0; i < kCount; i++)
            ::sigaction(kSignals[i], &old_[i], nullptr);
        ::close(signalPipe[0]);
        ::close(signalPipe[1]);
        signalPipe[0] = signalPipe[1] = -1;
    }
    CaughtSignals(const CaughtSignals&) = delete;
    CaughtSignals& operator=(const CaughtSignals&) = delete;
    int fd() const { return signalPipe[0]; }

private:
    static constexpr int kSignals[] = {SIGTERM, SIGHUP, SIGINT, SIGQUIT};
    static constexpr std::size_t kCount = sizeof kSignals / sizeof kSignals[0];
    struct sigaction old_[kCount] {};
};

// Writes all of `data` to a blocking `fd`; false when it is gone.
bool writeAll(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

enum class End { Left, InputEnded, ConsoleEnded, Signal };

End copyBothWays(int console, bool terminal, int signals) {
    char buffer[4096];
    for (;;) {
        pollfd fds[3] = {{console, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}, {signals, POLLIN, 0}};
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
        }
        if (fds[2].revents)
            return End::Signal;
        if (fds[0].revents) {
            const ssize_t n = ::read(console, buffer, sizeof buffer);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) // EOF, or EIO: stubdomd closed its side of the PTY
                return End::ConsoleEnded;
            if (!writeAll(STDOUT_FILENO, buffer, static_cast<std::size_t>(n)))
                return End::InputEnded; // nobody reads our output any more
        }
        if (fds[1].revents) {
            const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return End::InputEnded;
            std::size_t size = static_cast<std::size_t>(n);
            const void* leave = terminal ? std::memchr(buffer, kLeave, size) : nullptr;
            if (leave)
                size = static_cast<std::size_t>(static_cast<const char*>(leave) - buffer);
            if (!writeAll(console, buffer, size))
                return End::ConsoleEnded;
            if (leave)
                return End::Left;
        }
    }
}

int attach(const stubdom::GuestInfo& guest, const std::string& name,
           const stubdom::ConsolePty& pty) {
    const bool terminal = ::isatty(STDIN_FILENO);
    CaughtSignals signals;
    End end;
    {
        std::optional<RawTerminal> raw;
        if (terminal) {
            std::cerr << "Connected to " << name << " of " << guest.name << " (" << pty.path
                      << "). Press ^] to leave." << std::endl;
            raw.emplace(STDIN_FILENO);
        }
        end = copyBothWays(pty.fd, terminal, signals.fd());
    } // the terminal's mode restored here, before anything more is printed
    ::close(pty.fd);
    if (terminal)
        std::cerr << std::endl;
    switch (end) {
    case End::Left:
        std::cerr << "Left the console of " << guest.name << "." << std::endl;
        return 0;
    case End::InputEnded:
        return 0;
    case End::ConsoleEnded:
        std::cerr << "stubdomctl: the console " << name << " of " << guest.name
                  << " closed (its stub domain stopped)" << std::endl;
        return 1;
    case End::Signal:
        break;
    }
    return 1;
}

} // namespace

void addConsoleCommand(CLI::App& app, Context& context) {
    auto* console = app.add_subcommand(
        "console", "Attach the terminal to a guest's serial console (OpenConsole); ^] leaves");
    auto reference = std::make_shared<std::string>();
    auto name = std::make_shared<std::string>("serial0");
    console->add_option("guest", *reference, "Guest name, uuid or domain id")->required();
    console->add_option("--console", *name,
                        "serial0 (the guest's first serial port, the default) or stub (the "
                        "stub domain's own console, read-only)");
    console->callback([&context, reference, name] {
        context.doing = "open the console of '" + *reference + "'";
        context.run = [reference, name](stubdom::Client& client) {
            auto guest = findGuest(client, *reference);
            return attach(guest, *name, client.openConsole(guest.uuid, *name));
        };
    });
}

} // namespace stubdomctl
