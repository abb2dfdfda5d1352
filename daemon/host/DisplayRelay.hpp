// DisplayLinks on the event loop: a non-blocking connect to the display's server (TCP, or
// the unix socket of a Linux stub's display proxy), then
// a relay between it and the server's end of a socket pair whose other end the client got.
// Each direction has one bounded buffer: while it is full the relay stops reading the side
// that fills it, so a client that never reads costs kBufferBytes per direction at most and
// slows only its own server connection. Either side's EOF or error ends the relay: both
// descriptors close, and the client is said to have left.
#pragma once

#include "core/DisplayLinks.hpp"
#include "loop/EventLoop.hpp"
#include "loop/UniqueFd.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace stubdomd {

class DisplayRelay final : public DisplayLinks {
public:
    explicit DisplayRelay(EventLoop& loop,
                          std::chrono::milliseconds connectTimeout = std::chrono::seconds(5));
    ~DisplayRelay() override;
    DisplayRelay(const DisplayRelay&) = delete;
    DisplayRelay& operator=(const DisplayRelay&) = delete;

    void open(const std::string& key, const DisplayEndpoint& where, Opened opened,
              ClientsChanged changed) override;
    unsigned clients(const std::string& key) const override;

    static constexpr std::size_t kBufferBytes = 64 * 1024;

private:
    struct Link;
    bool startConnect(const std::shared_ptr<Link>& link);
    void connected(const std::shared_ptr<Link>& link);
    void pump(const std::shared_ptr<Link>& link);
    void arm(const std::shared_ptr<Link>& link);
    void end(const std::shared_ptr<Link>& link, bool tell);

    EventLoop& loop_;
    std::chrono::milliseconds connectTimeout_;
    std::multimap<std::string, std::shared_ptr<Link>> links_; // by key, connecting or relaying
};

} // namespace stubdomd
