#include "core/SpawnSlots.hpp"

#include <algorithm>

namespace stubdomd {

void SpawnSlots::setGate(SpawnGate& gate, std::function<void()> changed) {
    gate_ = &gate;
    gate.onChange(std::move(changed));
}

void SpawnSlots::remove(DomId guest) {
    queue_.erase(std::remove(queue_.begin(), queue_.end(), guest), queue_.end());
}

std::optional<DomId> SpawnSlots::next() {
    if (active_ >= max_ || queue_.empty())
        return std::nullopt;
    const DomId guest = queue_.front();
    queue_.pop_front();
    return guest;
}

void SpawnSlots::release() {
    if (active_ > 0)
        --active_;
}

bool SpawnSlots::reserve(std::uint64_t needKiB, std::uint64_t freeKiB) {
    if (freeKiB < reservedKiB_ + needKiB)
        return false;
    reservedKiB_ += needKiB;
    return true;
}

void SpawnSlots::giveBack(std::uint64_t& promisedKiB) {
    reservedKiB_ -= std::min(reservedKiB_, promisedKiB);
    promisedKiB = 0;
}

} // namespace stubdomd
