#include "dbus/server/PendingReplies.hpp"

#include "dbus/Names.hpp"

namespace stubdomd::dbus {

PendingReplies::~PendingReplies() {
    auto held = std::move(held_);
    for (auto& [key, entry] : held)
        entry->fail(sdbus::Error(kErrorFailed, "stubdomd is shutting down"));
}

void PendingReplies::hold(std::shared_ptr<Entry> entry) {
    const Entry* key = entry.get();
    held_.emplace(key, std::move(entry));
}

void PendingReplies::release(const Entry* entry) {
    held_.erase(entry);
}

} // namespace stubdomd::dbus
