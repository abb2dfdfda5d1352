// Who may spawn next: the guests waiting for a spawn slot in their order, the slots in
// use (max_parallel_spawns), the memory promised to xl creates still in flight, and the
// gate (a required dom0 helper) that holds them all back. A component of the spawn
// pipeline with its own state; it knows domids, never guests, so the pipeline decides
// what a waiting domid still means when its turn comes.
#pragma once

#include "SpawnGate.hpp"
#include "Types.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>

namespace stubdomd {

class SpawnSlots {
public:
    explicit SpawnSlots(unsigned maxParallel) : max_(maxParallel) {}
    SpawnSlots(const SpawnSlots&) = delete;
    SpawnSlots& operator=(const SpawnSlots&) = delete;

    // The gate must outlive the slots; `changed` runs whenever it may have opened or
    // closed. Without a gate, nothing waits for one.
    void setGate(SpawnGate& gate, std::function<void()> changed);
    // Empty while spawns may go ahead; else why they wait.
    std::string closedBecause() const { return gate_ ? gate_->closedBecause() : ""; }
    // What a spawn made meanwhile may miss (see SpawnGate::caveat); empty if nothing.
    std::string caveat() const { return gate_ ? gate_->caveat() : ""; }

    // The queue: a guest waits at its end, and leaves it when it goes or is stopped.
    void enqueue(DomId guest) { queue_.push_back(guest); }
    void remove(DomId guest);
    const std::deque<DomId>& waiting() const { return queue_; }
    // The first waiting guest, out of the queue, when a slot is free; nullopt otherwise.
    // The slot is the caller's only once it take()s it (the guest may no longer want it).
    std::optional<DomId> next();

    // A slot held by a spawn, or by a destroy the next spawn of the same name must wait
    // for; each take() is matched by one release().
    void take() { ++active_; }
    void release();
    unsigned active() const { return active_; }

    // The memory ledger: `needKiB` is promised to a create unless it does not fit in
    // `freeKiB` beside what is promised already (false, nothing promised). Memory
    // promised to creates still in flight is not free yet: without the ledger a boot
    // storm would overcommit, the race the stub-domain README warns of.
    bool reserve(std::uint64_t needKiB, std::uint64_t freeKiB);
    // Gives back what `promisedKiB` holds and zeroes it, so a second call gives nothing.
    void giveBack(std::uint64_t& promisedKiB);
    std::uint64_t reservedKiB() const { return reservedKiB_; }

private:
    unsigned max_;
    std::deque<DomId> queue_; // guests waiting for a slot, first come first served
    unsigned active_ = 0;
    std::uint64_t reservedKiB_ = 0;
    SpawnGate* gate_ = nullptr;
};

} // namespace stubdomd
