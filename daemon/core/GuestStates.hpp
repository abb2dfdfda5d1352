// The guest state machine of DESIGN.md section 3 as one table: which state may follow
// which. Registry::transition() is the only writer of a guest's state and checks
// every change against it; the unit test walks every pair.
#pragma once

#include "Types.hpp"

#include <array>
#include <utility>

namespace stubdomd {

// A guest's first state, before it is announced: what discovery found (no stub config:
// unmanaged; a bad one or a dom0 device model: failed; to be spawned: pending) or what
// adoption took over (running, or paused when the guest and its stub domain both are).
bool isInitialState(GuestState state);
// Whether `to` may follow `from`. A state may follow itself only where its reason can
// change while it lasts: unmanaged and failed (the configuration read again), pending
// (queued again), paused (its stub domain died meanwhile).
bool isAllowedTransition(GuestState from, GuestState to);
// Whether the state is a step of a spawn or a stop still going on.
bool isInProgress(GuestState state);

// The table itself, for the log and the documentation: each state and what may follow it.
struct StateRow {
    GuestState from;
    std::array<bool, 10> to; // indexed by GuestState
};
const std::array<StateRow, 10>& stateTable();

} // namespace stubdomd
