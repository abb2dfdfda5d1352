#include "host/DisplayRelay.hpp"

#include "loop/Drain.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

namespace stubdomd {

struct DisplayRelay::Link {
    std::string key;
    std::string where; // ADDRESS:PORT or the socket's path, for messages
    sockaddr_storage to{};
    socklen_t length = 0;
    UniqueFd server; // the connection to the display's server
    UniqueFd client; // stubdomd's end of the pair; the client holds the other
    std::vector<char> toClient, toServer;
    Opened opened; // reset once called
    ClientsChanged changed;
    Timers::TimerId timer = 0; // the connect timeout
    Timers::TimerId retry = 0; // the next connect to a unix socket not listening yet
    bool relaying = false;
};

namespace {

// How long a connect to a display proxy's socket that is not listening yet waits before
// trying again; the connect timeout bounds the whole.
constexpr std::chrono::milliseconds kRetryDelay{50};

// The endpoint as a socket address; Error(InvalidDisplay) for what is no IP literal, a
// port out of range or a socket path too long.
void socketFor(const DisplayEndpoint& endpoint, sockaddr_storage& out, socklen_t& length) {
    std::memset(&out, 0, sizeof out);
    if (!endpoint.socketPath.empty()) {
        auto* un = reinterpret_cast<sockaddr_un*>(&out);
        if (endpoint.socketPath.size() >= sizeof un->sun_path)
            throw Error(ErrorCode::InvalidDisplay,
                        "display socket path " + endpoint.socketPath + " is too long");
        un->sun_family = AF_UNIX;
        std::memcpy(un->sun_path, endpoint.socketPath.c_str(), endpoint.socketPath.size() + 1);
        length = sizeof *un;
        return;
    }
    const std::string& address = endpoint.address;
    const std::int32_t port = endpoint.port;
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
}

std::string describe(const DisplayEndpoint& endpoint) {
    if (!endpoint.socketPath.empty())
        return endpoint.socketPath;
    const bool v6 = endpoint.address.find(':') != std::string::npos;
    return (v6 ? "[" + endpoint.address + "]" : endpoint.address) + ":" +
           std::to_string(endpoint.port);
}

} // namespace

DisplayRelay::DisplayRelay(EventLoop& loop, std::chrono::milliseconds connectTimeout)
    : loop_(loop), connectTimeout_(connectTimeout) {}

DisplayRelay::~DisplayRelay() {
    for (auto& [key, link] : links_) {
        if (link->server)
            loop_.removeFd(link->server.get());
        loop_.removeFd(link->client.get());
        if (link->timer)
            loop_.cancel(link->timer);
        if (link->retry)
            loop_.cancel(link->retry);
    }
}

unsigned DisplayRelay::clients(const std::string& key) const {
    return static_cast<unsigned>(links_.count(key));
}

void DisplayRelay::open(const std::string& key, const DisplayEndpoint& endpoint, Opened opened,
                        ClientsChanged changed) {
    if (clients(key) >= endpoint.maxClients)
        throw Error(ErrorCode::Busy, "the display has " + std::to_string(endpoint.maxClients) +
                                         (endpoint.maxClients == 1 ? " client" : " clients") +
                                         " already, as many as it serves at once");
    auto link = std::make_shared<Link>();
    socketFor(endpoint, link->to, link->length);
    link->key = key;
    link->where = describe(endpoint);
    link->opened = std::move(opened);
    link->changed = std::move(changed);
    if (!startConnect(link)) {
        const int error = errno;
        throw Error(ErrorCode::SpawnFailed, "cannot connect to the display at " + link->where +
                                                ": " + std::strerror(error));
    }
    links_.emplace(key, link);
    std::weak_ptr<Link> weak = link;
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

// A non-blocking connect, watched for its end; a unix socket that is not there or not
// listening yet (a proxy just started binds it a moment later) is tried again after
// kRetryDelay. False, with errno, when the connect failed for good.
bool DisplayRelay::startConnect(const std::shared_ptr<Link>& link) {
    const int family = link->to.ss_family;
    link->server.reset(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!link->server)
        return false;
    if (::connect(link->server.get(), reinterpret_cast<sockaddr*>(&link->to), link->length) < 0 &&
        errno != EINPROGRESS) {
        if (family != AF_UNIX || (errno != ENOENT && errno != ECONNREFUSED && errno != EAGAIN))
            return false;
        link->server.reset();
        std::weak_ptr<Link> weak = link;
        link->retry = loop_.after(kRetryDelay, [this, weak] {
            auto l = weak.lock();
            if (!l)
                return;
            l->retry = 0;
            if (startConnect(l))
                return;
            const int error = errno;
            Opened opened = std::move(l->opened);
            const std::string where = l->where;
            end(l, false);
            opened(Error(ErrorCode::SpawnFailed,
                         "cannot connect to the display at " + where + ": " + std::strerror(error)),
                   -1);
        });
        return true;
    }
    std::weak_ptr<Link> weak = link;
    loop_.addFd(link->server.get(), POLLOUT, [this, weak](short) {
        if (auto l = weak.lock())
            connected(l);
    });
    return true;
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
    if (link->server)
        loop_.removeFd(link->server.get());
    if (link->client)
        loop_.removeFd(link->client.get());
    if (link->timer) {
        loop_.cancel(link->timer);
        link->timer = 0;
    }
    if (link->retry) {
        loop_.cancel(link->retry);
        link->retry = 0;
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
