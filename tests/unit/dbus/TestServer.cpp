// stubdomd's D-Bus server over fake services, for server_test.py: the real DbusServer
// and EventLoop on the bus in DBUS_SYSTEM_BUS_ADDRESS, steered through stdin.
//
// stdin, one command a line, each answered with "ok" or "fail <why>" on stdout:
//   add NAME UUID DOMID | state UUID STATE [REASON…] | port UUID PORT | rename UUID NAME
//   remove UUID
//   complete KEY ok|ERRORCODE [MESSAGE…]   (KEY: a uuid, or attach:DOMID)
//   helper NAME STATE PID | complete-helper NAME ok|ERRORCODE [MESSAGE…]
//   pending (prints "pending-replies N") | quit
// Unprompted lines: "ready UNIQUE-NAME" once the name is owned, "pending start UUID"
// (and stop/restart/attach/helper-…) when a command reaches the fake core,
// "reloaded". EOF on stdin stops the server, so it never outlives its test.
#include "FakeServices.hpp"
#include "dbus/server/DbusServer.hpp"
#include "loop/EventLoop.hpp"

#include <poll.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <iostream>
#include <sstream>

using namespace stubdomd;

namespace {

void say(const std::string& line) {
    std::cout << line << std::endl; // flushed: the test reads line by line
}

std::optional<ErrorCode> errorCodeFrom(const std::string& name) {
    for (int i = 0; i <= static_cast<int>(ErrorCode::Internal); ++i)
        if (toString(static_cast<ErrorCode>(i)) == name)
            return static_cast<ErrorCode>(i);
    return std::nullopt;
}

std::optional<GuestState> stateFrom(const std::string& name) {
    for (int i = 0; i <= static_cast<int>(GuestState::Failed); ++i)
        if (toString(static_cast<GuestState>(i)) == name)
            return static_cast<GuestState>(i);
    return std::nullopt;
}

std::optional<HelperState> helperStateFrom(const std::string& name) {
    for (int i = 0; i <= static_cast<int>(HelperState::Disabled); ++i)
        if (toString(static_cast<HelperState>(i)) == name)
            return static_cast<HelperState>(i);
    return std::nullopt;
}

std::string rest(std::istringstream& in) {
    std::string text;
    std::getline(in >> std::ws, text);
    return text;
}

// "ok" → success; "<ErrorCode> message" → that error.
std::optional<Error> outcome(const std::string& word, std::istringstream& in) {
    if (word == "ok")
        return std::nullopt;
    auto code = errorCodeFrom(word);
    if (!code)
        throw std::runtime_error("unknown error code " + word);
    return Error(*code, rest(in));
}

struct Fakes {
    test::FakeGuestService guests;
    test::FakeHelperService helpers;
};

void preload(Fakes& fakes) {
    GuestView alpha;
    alpha.name = "alpha";
    alpha.uuid = "6c3a1f2e-8d4b-4b7e-9f10-0a1b2c3d4e5f";
    alpha.domid = 5;
    alpha.stubDomid = 6;
    alpha.state = GuestState::Running;
    alpha.displayMode = DisplayMode::VncDom0;
    alpha.displayAddress = "127.0.0.1";
    alpha.displayPort = 5900;
    fakes.guests.preload(alpha);

    GuestView beta;
    beta.name = "beta";
    beta.uuid = "0b9e7d6c-5a4f-4e3d-8c2b-1a0f9e8d7c6b";
    beta.domid = 7;
    beta.state = GuestState::Stopped;
    beta.stateReason = "stopped by request";
    fakes.guests.preload(beta);

    HelperView fsBackend;
    fsBackend.name = "fs-backend";
    fsBackend.state = HelperState::Running;
    fsBackend.mainPid = 4242;
    fakes.helpers.preload(fsBackend);
}

void command(Fakes& fakes, dbus::DbusServer& server, EventLoop& loop, const std::string& line) {
    std::istringstream in(line);
    std::string verb;
    in >> verb;
    if (verb == "add") {
        GuestView guest;
        in >> guest.name >> guest.uuid >> guest.domid;
        guest.state = GuestState::Pending;
        fakes.guests.add(guest);
    } else if (verb == "state" || verb == "port" || verb == "rename") {
        std::string uuid, value;
        in >> uuid >> value;
        const GuestView* known = fakes.guests.byUuid(uuid);
        if (!known)
            throw std::runtime_error("no guest " + uuid);
        GuestView guest = *known;
        if (verb == "port") {
            guest.displayPort = std::stoi(value);
        } else if (verb == "rename") {
            guest.name = value;
        } else {
            auto state = stateFrom(value);
            if (!state)
                throw std::runtime_error("no state " + value);
            guest.state = *state;
            guest.stateReason = rest(in);
        }
        fakes.guests.change(guest);
    } else if (verb == "remove") {
        std::string uuid;
        in >> uuid;
        fakes.guests.remove(uuid);
    } else if (verb == "complete") {
        std::string key, word;
        in >> key >> word;
        if (!fakes.guests.complete(key, outcome(word, in)))
            throw std::runtime_error("nothing pending for " + key);
    } else if (verb == "helper") {
        std::string name, state;
        std::uint32_t pid = 0;
        in >> name >> state >> pid;
        const HelperView* known = fakes.helpers.byName(name);
        auto parsed = helperStateFrom(state);
        if (!known || !parsed)
            throw std::runtime_error("bad helper command");
        HelperView helper = *known;
        helper.state = *parsed;
        helper.mainPid = pid;
        fakes.helpers.change(helper);
    } else if (verb == "complete-helper") {
        std::string name, word;
        in >> name >> word;
        if (!fakes.helpers.complete(name, outcome(word, in)))
            throw std::runtime_error("nothing pending for " + name);
    } else if (verb == "pending") {
        say("pending-replies " + std::to_string(server.pendingReplies()));
    } else if (verb == "quit") {
        loop.stop();
    } else {
        throw std::runtime_error("unknown command " + verb);
    }
}

} // namespace

int main() {
    try {
        EventLoop loop;
        Fakes fakes;
        fakes.guests.report = say;
        fakes.helpers.report = say;
        preload(fakes);

        dbus::ServerInfo info{"0.1.0-test", "4.17.0", "/usr/sbin/xl", {"ioemu", "attach"}};
        dbus::DbusServer server(loop, fakes.guests, &fakes.helpers, info);
        server.attachToLoop();

        std::string buffer;
        loop.addFd(STDIN_FILENO, POLLIN, [&](short) {
            std::array<char, 4096> chunk;
            ssize_t n = ::read(STDIN_FILENO, chunk.data(), chunk.size());
            if (n <= 0) {
                loop.stop();
                loop.removeFd(STDIN_FILENO);
                return;
            }
            buffer.append(chunk.data(), static_cast<std::size_t>(n));
            for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
                std::string line = buffer.substr(0, nl);
                buffer.erase(0, nl + 1);
                try {
                    command(fakes, server, loop, line);
                    say("ok");
                } catch (const std::exception& e) {
                    say(std::string("fail ") + e.what());
                }
            }
        });

        say("ready " + server.uniqueName());
        loop.run();
        loop.removeFd(STDIN_FILENO);
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "test server: " << e.what() << std::endl;
        return 1;
    }
}
