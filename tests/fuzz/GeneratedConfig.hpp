// The stub domain's config stubdomd writes for a spec, read back by libxlutil as
// `xl create` will read it (for the targets that produce specs).
#pragma once

#include "FuzzCheck.hpp"
#include "config/Settings.hpp"
#include "core/StubConfigWriter.hpp"
#include "xen/XlConfigReader.hpp"

#include <optional>
#include <string>

namespace stubdomd::fuzz {

inline GuestIdentity fuzzGuest() {
    GuestIdentity guest;
    guest.domid = 7;
    guest.name = "fuzz";
    guest.uuid = "00000000-0000-0000-0000-000000000007";
    return guest;
}

// nullopt when writeStubConfig refuses the spec (a NUL byte libxlutil cannot write back,
// a flavour without a stub domain); a generated config that does not read back is a
// finding.
inline std::optional<StubSpec> writeAndReadBack(const StubSpec& spec, std::string& generated) {
    try {
        generated = writeStubConfig(fuzzGuest(), spec, Settings{});
    } catch (const Error& e) {
        expectRefusal(e, {ErrorCode::InvalidConfig, ErrorCode::NotSupported}, "writeStubConfig");
        return std::nullopt;
    }
    try {
        return XlConfigReader::parse(generated, "generated");
    } catch (const Error& e) {
        finding(std::string("the generated config does not read back: ") + e.what() + "\n" +
                generated);
    }
}

} // namespace stubdomd::fuzz
