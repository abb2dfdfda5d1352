#include "dbus/server/ResourceWatchers.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace stubdomd::dbus {

ResourceWatchers::~ResourceWatchers() {
    for (auto& [fd, watcher] : watchers_) {
        loop_.removeFd(fd);
        guests_.unwatchResources(watcher.uuid);
    }
}

int ResourceWatchers::open(const std::string& uuid) {
    const auto mine = static_cast<std::size_t>(
        std::count_if(watchers_.begin(), watchers_.end(),
                      [&uuid](const auto& entry) { return entry.second.uuid == uuid; }));
    if (mine >= kMaxPerGuest || watchers_.size() >= kMaxInAll)
        throw Error(ErrorCode::Busy, "too many resource listeners (" +
                                         std::to_string(kMaxPerGuest) + " per guest, " +
                                         std::to_string(kMaxInAll) + " in all)");
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair) < 0)
        throw Error(ErrorCode::Internal,
                    std::string("socketpair for a resource listener: ") + std::strerror(errno));
    UniqueFd ours(pair[0]);
    UniqueFd theirs(pair[1]);
    // Nothing is ever sent: the socket only says, by closing, that the listener left.
    ::shutdown(ours.get(), SHUT_WR);
    guests_.watchResources(uuid); // throws for an unknown guest: both ends close
    const int fd = ours.get();
    watchers_[fd] = Watcher{uuid, std::move(ours)};
    loop_.addFd(fd, POLLIN, [this, fd](short) { readable(fd); });
    return theirs.release();
}

// A listener that writes is drained; EOF, a hang-up or an error is its leaving.
void ResourceWatchers::readable(int fd) {
    std::array<char, 256> buffer;
    for (;;) {
        const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (n > 0)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0 && errno == EINTR)
            continue;
        close(fd);
        return;
    }
}

void ResourceWatchers::close(int fd) {
    auto it = watchers_.find(fd);
    if (it == watchers_.end())
        return;
    loop_.removeFd(fd);
    const std::string uuid = it->second.uuid;
    watchers_.erase(it);
    guests_.unwatchResources(uuid);
}

} // namespace stubdomd::dbus
