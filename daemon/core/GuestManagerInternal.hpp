// What the files that still implement GuestManager share beside its header: the
// timing constants of the stub-death policy and two formatting helpers. It goes when
// the last of them is a component of its own (see issue 17's note, "What remains").
#pragma once

#include "core/GuestManager.hpp"

#include <chrono>
#include <string>

namespace stubdomd::internal {

// A stub domain that ran this long before dying counts as a fresh failure for the
// `restart` policy's limit, not as one more in a crash loop.
inline constexpr auto kRestartForgiveness = std::chrono::seconds(60);
// How long a dead stub domain's guest has to go away too before the stub's death is
// taken as a crash (see stubGone).
inline constexpr auto kStubDeathGrace = std::chrono::milliseconds(1000);
// How long to keep waiting while that guest stays paused (as libxl leaves a guest it is
// destroying) before the stub's death is taken as a crash after all.
inline constexpr auto kStubDeathPatience = std::chrono::seconds(30);

// The last few lines of a command's stderr, on one line, for a StateReason.
std::string lastLines(const std::string& text, std::size_t maxLines = 3);
// "30 s", "2.5 s"
std::string seconds(std::chrono::milliseconds ms);

} // namespace stubdomd::internal
