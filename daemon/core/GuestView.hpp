// What the outside (D-Bus, logs, stubdomctl) can see of one guest.
#pragma once

#include "Types.hpp"

#include <cstdint>
#include <string>

namespace stubdomd {

struct GuestView {
    std::string name;
    std::string uuid;
    DomId domid = 0;
    DomId stubDomid = 0; // 0: none
    GuestState state = GuestState::Unmanaged;
    std::string stateReason;
    Flavour flavour = Flavour::Ioemu;
    DisplayMode displayMode = DisplayMode::None;
    std::string displayAddress;
    std::int32_t displayPort = -1;   // -1: unknown
    bool displayPasswordSet = false; // GetDisplay's password-set; the password itself is never here
    std::uint32_t restarts = 0;
    std::string lastError;
};

// Which properties a change touched, so the D-Bus layer emits one
// PropertiesChanged with exactly those.
enum GuestField : std::uint32_t {
    FieldName = 1u << 0,
    FieldUuid = 1u << 1,
    FieldDomId = 1u << 2,
    FieldStubDomId = 1u << 3,
    FieldState = 1u << 4,
    FieldStateReason = 1u << 5,
    FieldFlavour = 1u << 6,
    FieldDisplayMode = 1u << 7,
    FieldDisplayAddress = 1u << 8,
    FieldDisplayPort = 1u << 9,
    FieldRestarts = 1u << 10,
    FieldLastError = 1u << 11,
};

std::uint32_t differingFields(const GuestView& before, const GuestView& after);

} // namespace stubdomd
