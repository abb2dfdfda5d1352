#include "core/GuestStates.hpp"

namespace stubdomd {

namespace {

using S = GuestState;
constexpr bool x = true, _ = false;

// Read a row as: from `from`, the guest may go to the states marked x.
//                    Unmanaged Pending Spawning Linking Starting Running Paused Stopping Stopped
//                    Failed
constexpr std::array<StateRow, 10> kTable{{
    // The configuration read again (Reload, Start): still none, a good one, a bad one.
    {S::Unmanaged, {x, x, _, _, _, _, _, _, _, x}},
    // Queued: its turn comes, Stop cancels it, queued again (restart), refused.
    {S::Pending, {_, x, x, _, _, _, _, x, _, x}},
    // The spawn pipeline, one step at a time; Stop or a failure at each step.
    {S::Spawning, {_, _, _, x, _, _, _, x, _, x}},
    {S::Linking, {_, _, _, _, x, _, _, x, _, x}},
    {S::Starting, {_, _, _, _, _, x, _, x, _, x}},
    // Pause (or host sleep); Stop; the stub died: restarted (on_stubdom_death = restart)
    // or failed.
    {S::Running, {_, x, _, _, _, _, x, x, _, x}},
    // Resume (or the host woke). Nothing else leaves it: Stop and Restart are refused
    // while paused, and a stub that dies meanwhile is only noted (its reason changes) and
    // judged after the resume. A guest destroyed while paused is removed: no transition.
    {S::Paused, {_, _, _, _, _, x, x, _, _, _}},
    // The stub domain destroyed, or its destruction failed.
    {S::Stopping, {_, _, _, _, _, _, _, _, x, x}},
    // Start: queued, or the configuration is now gone or bad.
    {S::Stopped, {x, x, _, _, _, _, _, _, _, x}},
    // Start, Reload or Restart: as from stopped; Stop when a stub domain is left over; a
    // stub death or a bad configuration while failed.
    {S::Failed, {x, x, _, _, _, _, _, x, _, x}},
}};

constexpr std::size_t indexOf(GuestState state) {
    return static_cast<std::size_t>(state);
}

constexpr bool rowsInEnumOrder() {
    for (std::size_t i = 0; i < kTable.size(); ++i)
        if (indexOf(kTable[i].from) != i)
            return false;
    return true;
}
static_assert(rowsInEnumOrder(), "one row per GuestState, in the enum's order");
static_assert(kTable.size() == indexOf(GuestState::Failed) + 1, "a row for every state");

} // namespace

const std::array<StateRow, 10>& stateTable() {
    return kTable;
}

bool isInitialState(GuestState state) {
    return state == S::Unmanaged || state == S::Pending || state == S::Running ||
           state == S::Paused || state == S::Failed;
}

bool isAllowedTransition(GuestState from, GuestState to) {
    const StateRow& row = kTable[indexOf(from)];
    return row.to[indexOf(to)];
}

bool isInProgress(GuestState s) {
    return s == GuestState::Pending || s == GuestState::Spawning || s == GuestState::Linking ||
           s == GuestState::Starting || s == GuestState::Stopping;
}

} // namespace stubdomd
