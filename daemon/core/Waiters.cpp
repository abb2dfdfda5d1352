#include "core/Waiters.hpp"

namespace stubdomd {

void Waiters::waitForStart(DomId guest, Completion done) {
    waiting_[guest].start.push_back(std::move(done));
}

void Waiters::waitForStop(DomId guest, Completion done) {
    waiting_[guest].stop.push_back(std::move(done));
}

// Moved out first: a waiter may start the next wait (and so add to the same list).
void Waiters::answer(DomId guest, std::vector<Completion> Waiting::*which,
                     const std::optional<Error>& error) {
    auto found = waiting_.find(guest);
    if (found == waiting_.end())
        return;
    auto waiters = std::move(found->second.*which);
    (found->second.*which).clear();
    for (auto& done : waiters)
        done(error);
}

void Waiters::started(DomId guest, const std::optional<Error>& error) {
    answer(guest, &Waiting::start, error);
}

void Waiters::stopped(DomId guest, const std::optional<Error>& error) {
    answer(guest, &Waiting::stop, error);
}

void Waiters::startAfterStop(DomId guest, bool wanted) {
    if (wanted)
        waiting_[guest].startAfterStop = true;
    else if (auto found = waiting_.find(guest); found != waiting_.end())
        found->second.startAfterStop = false;
}

bool Waiters::takeStartAfterStop(DomId guest) {
    auto found = waiting_.find(guest);
    if (found == waiting_.end() || !found->second.startAfterStop)
        return false;
    found->second.startAfterStop = false;
    return true;
}

} // namespace stubdomd
