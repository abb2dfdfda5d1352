#include "host/DisplayRelay.hpp"

#include "loop/Drain.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

namespace stubdomd {

struct DisplayRelay::Link {
    std::string key;
    std::string where; // ADDRESS:PORT, for messages
    UniqueFd server;   // the connection to the display's server
    UniqueFd client;   // stubdomd's end of the pair; the client holds the other
    std::vector<char> toClient, toServer;
    Opened opened; // reset once called
    ClientsChanged changed;
    Timers::TimerId timer = 0;
    bool relaying = false;
};

namespace {

// ADDRESS:PORT as a socket address; Error(InvalidDisplay) for what is no IP literal.
int socketFor(const std::string& address, std::int32_t port, sockaddr_storage& out,
              socklen_t& length) {
    std::memset(&out, 0, sizeof out);
    if (port <= 0 || port > 65535)
        throw Error(ErrorCode::InvalidDisplay,
                    "display port " + std::to_string(port) + " is out of range");
    auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
    if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<uint16_t>(port));
        length = sizeof *v4;
    } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<uint16_t>(port));
        length = sizeof *v6;
    } else {
        throw Error(ErrorCode::InvalidDisplay,
                    "display address '" + address + "' is no IP address");
    }
    return out.ss_family;
}

} // namespace

DisplayRelay::DisplayRelay(EventLoop& loop, std::chrono::milliseconds connectTimeout)
    : loop_(loop), connectTimeout_(connectTimeout) {}

DisplayRelay::~DisplayRelay() {
    for (auto& [key, link] : links_) {
        loop_.removeFd(link->server.get());
        loop_.removeFd(link->client.get());
        if (link->timer)
            loop_.cancel(link->timer);
    }
}

unsigned DisplayRelay::clients(const std::string& key) const {
    return static_cast<unsigned>(links_.count(key));
}

void DisplayRelay::open(const std::string& key, const std::string& address, std::int32_t port,
                        Opened opened, ClientsChanged changed) {
    if (clients(key) >= kMaxClients)
        throw Error(ErrorCode::Busy,
                    "the display has " + std::to_string(kMaxClients) + " clients already");
    sockaddr_storage to;
    socklen_t length = 0;
    const int family = socketFor(address, port, to, length);
    auto link = std::make_shared<Link>();
    link->key = key;
    link->where = (family == AF_INET6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
    link->opened = std::move(opened);
    link->changed = std::move(changed);
    link->server.reset(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!link->server)
        throw Error(ErrorCode::Busy, std::string("cannot make a socket: ") + std::strerror(errno));
    if (::connect(link->server.get(), reinterpret_cast<sockaddr*>(&to), length) < 0 &&
        errno != EINPROGRESS)
        throw Error(ErrorCode::SpawnFailed, "cannot connect to the display at " + link->where +
                                                ": " + std::strerror(errno));
    links_.emplace(key, link);
    std::weak_ptr<Link> weak = link;
    loop_.addFd(link->server.get(), POLLOUT, [this, weak](short) {
        if (auto l = weak.lock())
            connected(l);
    });
    link->timer = loop_.after(connectTimeout_, [this, weak] {
        auto l = weak.lock();
        if (!l || l->relaying)
            return;
        l->timer = 0;
        Opened opened = std::move(l->opened);
        const std::string where = l->where;
        end(l, false);
        opened(Error(ErrorCode::TimedOut, "the display at " + where + " did not answer within " +
                                              std::to_string(connectTimeout_.count()) + " ms"),
               -1);
    });
}

void DisplayRelay::connected(const std::shared_ptr<Link>& link) {
    int error = 0;
    socklen_t size = sizeof error;
    if (::getsockopt(link->server.get(), SOL_SOCKET, SO_ERROR, &error, &size) < 0)
        error = errno;
    int pair[2] = {-1, -1};
    if (!error && ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, pair) < 0)
        error = errno;
    Opened opened = std::move(link->opened);
    if (link->timer) {
        loop_.cancel(link->timer);
        link->timer = 0;
    }
    if (error) {
        const std::string where = link->where;
        end(link, false);
        opened(Error(ErrorCode::SpawnFailed,
                     "cannot connect to the display at " + where + ": " + std::strerror(error)),
               -1);
        return;
    }
    // The client's end blocks, as any socket a client makes itself would; ours does not.
    ::fcntl(pair[1], F_SETFL, ::fcntl(pair[1], F_GETFL) & ~O_NONBLOCK);
    link->client.reset(pair[0]);
    link->relaying = true;
    std::weak_ptr<Link> weak = link;
    loop_.removeFd(link->server.get());
    loop_.addFd(link->server.get(), POLLIN, [this, weak](short) {
        if (auto l = weak.lock())
            pump(l);
    });
    loop_.addFd(link->client.get(), POLLIN, [this, weak](short) {
        if (auto l = weak.lock())
            pump(l);
    });
    // Told before the fd is handed over, so a client hears of itself first.
    if (link->changed)
        link->changed(true, clients(link->key));
    opened(std::nullopt, pair[1]); // the caller's now
}

// Moves what can move both ways, then waits for what lets more move: readable sides whose
// buffer has room, writable sides with something buffered.
void DisplayRelay::pump(const std::shared_ptr<Link>& link) {
    const bool ok = fillBuffer(link->server.get(), link->toClient, kBufferBytes) &&
                    fillBuffer(link->client.get(), link->toServer, kBufferBytes) &&
                    flushBuffer(link->client.get(), link->toClient) &&
                    flushBuffer(link->server.get(), link->toServer);
    if (!ok) {
        end(link, true);
        return;
    }
    arm(link);
}

void DisplayRelay::arm(const std::shared_ptr<Link>& link) {
    auto events = [](const std::vector<char>& in, const std::vector<char>& out) {
        short e = 0;
        if (in.size() < kBufferBytes)
            e |= POLLIN;
        if (!out.empty())
            e |= POLLOUT;
        return e;
    };
    // poll() reports a hang-up whatever is asked, so a full buffer still sees its peer go.
    loop_.modifyFd(link->server.get(), events(link->toClient, link->toServer));
    loop_.modifyFd(link->client.get(), events(link->toServer, link->toClient));
}

void DisplayRelay::end(const std::shared_ptr<Link>& link, bool tell) {
    loop_.removeFd(link->server.get());
    loop_.removeFd(link->client.get());
    if (link->timer) {
        loop_.cancel(link->timer);
        link->timer = 0;
    }
    for (auto [it, last] = links_.equal_range(link->key); it != last; ++it)
        if (it->second == link) {
            links_.erase(it);
            break;
        }
    link->server.reset();
    link->client.reset();
    if (tell && link->changed)
        link->changed(false, clients(link->key));
}

} // namespace stubdomd
