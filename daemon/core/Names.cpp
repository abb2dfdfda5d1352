// String forms of the core's enums: the D-Bus values and the config file's words.
#include "core/Errors.hpp"
#include "core/GuestView.hpp"
#include "core/Types.hpp"

#include <array>
#include <utility>

namespace stubdomd {

namespace {

template <typename Enum, std::size_t N>
std::string_view nameOf(const std::array<std::pair<Enum, std::string_view>, N>& table, Enum value) {
    for (const auto& [key, name] : table)
        if (key == value)
            return name;
    return "?";
}

template <typename Enum, std::size_t N>
std::optional<Enum> valueOf(const std::array<std::pair<Enum, std::string_view>, N>& table,
                            std::string_view text) {
    for (const auto& [key, name] : table)
        if (name == text)
            return key;
    return std::nullopt;
}

constexpr std::array<std::pair<GuestState, std::string_view>, 10> kStates{{
    {GuestState::Unmanaged, "unmanaged"},
    {GuestState::Pending, "pending"},
    {GuestState::Spawning, "spawning"},
    {GuestState::Linking, "linking"},
    {GuestState::Starting, "starting"},
    {GuestState::Running, "running"},
    {GuestState::Paused, "paused"},
    {GuestState::Stopping, "stopping"},
    {GuestState::Stopped, "stopped"},
    {GuestState::Failed, "failed"},
}};

constexpr std::array<std::pair<Flavour, std::string_view>, 3> kFlavours{{
    {Flavour::Ioemu, "ioemu"},
    {Flavour::Linux, "linux"},
    {Flavour::PvGrub, "pv-grub"},
}};

constexpr std::array<std::pair<DisplayMode, std::string_view>, 4> kDisplayModes{{
    {DisplayMode::None, "none"},
    {DisplayMode::Sdl, "sdl"},
    {DisplayMode::VncStubdom, "vnc-stubdom"},
    {DisplayMode::VncDom0, "vnc-dom0"},
}};

constexpr std::array<std::pair<StubDeathPolicy, std::string_view>, 3> kPolicies{{
    {StubDeathPolicy::CrashGuest, "crash-guest"},
    {StubDeathPolicy::Restart, "restart"},
    {StubDeathPolicy::Leave, "leave"},
}};

constexpr std::array<std::pair<ErrorCode, std::string_view>, 12> kErrors{{
    {ErrorCode::NoSuchGuest, "NoSuchGuest"},
    {ErrorCode::NotHvm, "NotHvm"},
    {ErrorCode::InvalidState, "InvalidState"},
    {ErrorCode::InvalidConfig, "InvalidConfig"},
    {ErrorCode::InvalidDisplay, "InvalidDisplay"},
    {ErrorCode::SpawnFailed, "SpawnFailed"},
    {ErrorCode::TimedOut, "TimedOut"},
    {ErrorCode::Busy, "Busy"},
    {ErrorCode::NotSupported, "NotSupported"},
    {ErrorCode::InvalidArgs, "InvalidArgs"},
    {ErrorCode::AccessDenied, "AccessDenied"},
    {ErrorCode::Internal, "Internal"},
}};

} // namespace

std::string_view toString(GuestState state) {
    return nameOf(kStates, state);
}
std::string_view toString(Flavour flavour) {
    return nameOf(kFlavours, flavour);
}
std::optional<Flavour> flavourFromString(std::string_view text) {
    return valueOf(kFlavours, text);
}
std::string_view toString(DisplayMode mode) {
    return nameOf(kDisplayModes, mode);
}
std::optional<DisplayMode> displayModeFromString(std::string_view text) {
    return valueOf(kDisplayModes, text);
}
std::string_view toString(StubDeathPolicy policy) {
    return nameOf(kPolicies, policy);
}
std::optional<StubDeathPolicy> stubDeathPolicyFromString(std::string_view text) {
    return valueOf(kPolicies, text);
}
std::string_view toString(ErrorCode code) {
    return nameOf(kErrors, code);
}

std::uint32_t differingFields(const GuestView& a, const GuestView& b) {
    std::uint32_t fields = 0;
    auto check = [&](bool differs, GuestField field) {
        if (differs)
            fields |= field;
    };
    check(a.name != b.name, FieldName);
    check(a.uuid != b.uuid, FieldUuid);
    check(a.domid != b.domid, FieldDomId);
    check(a.stubDomid != b.stubDomid, FieldStubDomId);
    check(a.state != b.state, FieldState);
    check(a.stateReason != b.stateReason, FieldStateReason);
    check(a.flavour != b.flavour, FieldFlavour);
    check(a.displayMode != b.displayMode, FieldDisplayMode);
    check(a.displayAddress != b.displayAddress, FieldDisplayAddress);
    check(a.displayPort != b.displayPort, FieldDisplayPort);
    check(a.restarts != b.restarts, FieldRestarts);
    check(a.lastError != b.lastError, FieldLastError);
    check(a.stubMemoryMiB != b.stubMemoryMiB, FieldStubMemory);
    check(a.stubMemoryUsedKiB != b.stubMemoryUsedKiB, FieldStubMemoryUsed);
    check(a.stubCpuTimeNs != b.stubCpuTimeNs, FieldStubCpuTime);
    return fields;
}

} // namespace stubdomd
