// A scripted QMP peer on the test's own event loop: listens on a unix socket, greets
// (or not) on accept, and answers each line it receives with what the test's handler
// returns. It lets the client's tests play every misbehaving device model.
#pragma once

#include "loop/EventLoop.hpp"
#include "loop/UniqueFd.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace stubdomd::test {

class TempDir {
public:
    TempDir() {
        char pattern[] = "/tmp/unit-qmp-XXXXXX";
        if (!mkdtemp(pattern))
            throw std::runtime_error("mkdtemp failed");
        path = pattern;
    }
    ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
    std::string path;
};

class QmpPeer {
public:
    // What to send for a line received; the peer writes it as given (add "\n").
    using Answer = std::function<std::string(const std::string& line)>;

    QmpPeer(EventLoop& loop, const std::string& path, std::string greeting, Answer answer)
        : loop_(loop), greeting_(std::move(greeting)), answer_(std::move(answer)) {
        listener_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
        if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
            ::listen(listener_.get(), 4) != 0)
            throw std::runtime_error("cannot listen on " + path);
        loop_.addFd(listener_.get(), POLLIN, [this](short) { accept(); });
    }
    ~QmpPeer() {
        loop_.removeFd(listener_.get());
        if (client_)
            loop_.removeFd(client_.get());
    }

    std::vector<std::string> received; // every line the client sent
    unsigned connections = 0;

private:
    void accept() {
        UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd)
            return;
        ++connections;
        if (client_)
            loop_.removeFd(client_.get());
        client_ = std::move(fd);
        pending_.clear();
        loop_.addFd(client_.get(), POLLIN, [this](short) { read(); });
        send(greeting_);
    }
    void read() {
        char chunk[4096];
        ssize_t got = ::read(client_.get(), chunk, sizeof(chunk));
        if (got <= 0) {
            loop_.removeFd(client_.get());
            client_.reset();
            return;
        }
        pending_.append(chunk, static_cast<std::size_t>(got));
        for (auto nl = pending_.find('\n'); nl != std::string::npos; nl = pending_.find('\n')) {
            std::string line = pending_.substr(0, nl);
            pending_.erase(0, nl + 1);
            received.push_back(line);
            send(answer_(line));
        }
    }
    // Test messages are small: a blocking-enough write of a few KiB into a fresh
    // socket buffer always goes through at once.
    void send(const std::string& text) {
        for (std::size_t done = 0; done < text.size();) {
            ssize_t n = ::send(client_.get(), text.data() + done, text.size() - done, MSG_NOSIGNAL);
            if (n <= 0)
                return;
            done += static_cast<std::size_t>(n);
        }
    }

    EventLoop& loop_;
    std::string greeting_;
    Answer answer_;
    UniqueFd listener_;
    UniqueFd client_;
    std::string pending_;
};

} // namespace stubdomd::test
