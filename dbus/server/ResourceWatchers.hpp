// The listeners of Guest.WatchResources: each holds one end of a socket pair, the daemon
// the other in its loop. A listener that closes its end, or exits, is gone the moment the
// kernel says so (EOF or hang-up), with no bus-name tracking: sd-bus shows a server no
// match rules, so "someone listens" has to be something a client holds. While a guest
// has listeners the core samples its stub domain (GuestService::watchResources).
#pragma once

#include "core/GuestService.hpp"
#include "loop/EventLoop.hpp"
#include "loop/UniqueFd.hpp"

#include <map>
#include <string>

namespace stubdomd::dbus {

class ResourceWatchers {
public:
    static constexpr std::size_t kMaxPerGuest = 16;
    static constexpr std::size_t kMaxInAll = 256;

    ResourceWatchers(EventLoop& loop, GuestService& guests) : loop_(loop), guests_(guests) {}
    ~ResourceWatchers();
    ResourceWatchers(const ResourceWatchers&) = delete;
    ResourceWatchers& operator=(const ResourceWatchers&) = delete;

    // A new listener of the guest: the caller's end, which the caller then owns. Throws
    // Error(Busy) beyond the limits, Error(NoSuchGuest) as watchResources does.
    int open(const std::string& uuid);
    std::size_t count() const { return watchers_.size(); }

private:
    struct Watcher {
        std::string uuid;
        UniqueFd fd; // ours
    };
    void readable(int fd);
    void close(int fd);

    EventLoop& loop_;
    GuestService& guests_;
    std::map<int, Watcher> watchers_; // by our fd
};

} // namespace stubdomd::dbus
