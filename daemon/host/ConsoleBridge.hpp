// ConsoleLinks on the event loop: per client a pseudo-terminal whose master the client gets
// and whose slave stubdomd holds (raw: the bytes pass unchanged both ways, nothing is
// echoed), bridged to a console's output (a follower descriptor) and input (xenconsoled's
// pty of the stub). Each direction has one bounded buffer, and while it is full the side
// that fills it is not read: a client that never reads costs kBufferBytes, and the log
// follower behind it is cut off by the logger (never the daemon blocked). The client closing
// the master (the slave hangs up), the follower ending, or the stub's console pty hanging up
// ends the bridge: its descriptors close, and the client reads EOF (EIO on a master).
#pragma once

#include "core/ConsoleLinks.hpp"
#include "loop/EventLoop.hpp"
#include "loop/UniqueFd.hpp"

#include <cstddef>
#include <map>
#include <memory>
#include <string>

namespace stubdomd {

class ConsoleBridge final : public ConsoleLinks {
public:
    explicit ConsoleBridge(EventLoop& loop) : loop_(loop) {}
    ~ConsoleBridge() override;
    ConsoleBridge(const ConsoleBridge&) = delete;
    ConsoleBridge& operator=(const ConsoleBridge&) = delete;

    Opened open(const std::string& key, int output, const std::string& consoleTty,
                bool writable) override;
    unsigned links(const std::string& key) const override;

    // Bounds the descriptors (four a link) one guest's consoles take.
    static constexpr unsigned kMaxLinks = 4;
    static constexpr std::size_t kBufferBytes = 64 * 1024;

private:
    struct Link;
    void pump(const std::shared_ptr<Link>& link, short hangups);
    void end(const std::shared_ptr<Link>& link);

    EventLoop& loop_;
    std::multimap<std::string, std::shared_ptr<Link>> links_; // by key
};

} // namespace stubdomd
