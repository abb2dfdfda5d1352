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
    // The memory of the running stub domain, or, while none runs, what the next one is
    // given as known now (0: no stub config). A Linux stub's share for the guest's video
    // memory is read when it starts (StubFlavour.hpp); until then it is the toolstack's
    // figure or libxl's default.
    std::uint64_t stubMemoryMiB = 0;
    // The running stub domain as the hypervisor last said, sampled only while someone
    // watches (ResourceSampler.hpp); 0 without a stub domain or a sample.
    std::uint64_t stubMemoryUsedKiB = 0; // its pages (tot_pages) in KiB
    std::uint64_t stubCpuTimeNs = 0;     // the time its vCPUs ran
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
    FieldStubMemory = 1u << 12,
    FieldStubMemoryUsed = 1u << 13,
    FieldStubCpuTime = 1u << 14,
};

std::uint32_t differingFields(const GuestView& before, const GuestView& after);

} // namespace stubdomd
