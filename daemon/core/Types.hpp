// Vocabulary shared by the core, the adapters and the D-Bus layer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stubdomd {

using DomId = std::uint32_t;

// The guest life cycle of DESIGN.md section 3; the strings are the D-Bus `State` values.
enum class GuestState {
    Unmanaged, // no stub-domain configuration: listed, never touched
    Pending,
    Spawning,
    Linking,
    Starting,
    Running,
    Paused, // running, with the guest and then its stub domain paused (Pause, host sleep)
    Stopping,
    Stopped,
    Failed,
};

std::string_view toString(GuestState state);

enum class Flavour { Ioemu, Linux, PvGrub };
std::string_view toString(Flavour flavour);
std::optional<Flavour> flavourFromString(std::string_view text);

enum class DisplayMode { None, Sdl, VncStubdom, VncDom0 };
std::string_view toString(DisplayMode mode);
std::optional<DisplayMode> displayModeFromString(std::string_view text);

// What to do when a stub domain dies while its guest still lives.
enum class StubDeathPolicy { CrashGuest, Restart, Leave };
std::string_view toString(StubDeathPolicy policy);
std::optional<StubDeathPolicy> stubDeathPolicyFromString(std::string_view text);

} // namespace stubdomd
