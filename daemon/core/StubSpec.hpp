// A guest's stub-domain configuration (<xen config dir>/stubdom-<name>), as parsed
// from xl syntax, and the identity of the guest it serves.
#pragma once

#include "Types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stubdomd {

struct StubSpec {
    std::string sourceFile;            // for messages: "/etc/xen/stubdom-hvmconfig"
    std::optional<std::string> kernel; // unset: the daemon's default stub kernel
    std::optional<std::string> ramdisk;
    std::optional<std::uint64_t> memoryMiB;
    std::vector<std::string> vifs; // vifs[0] is reserved for VNC in the stub domain
    std::vector<std::string> disks;
    std::vector<std::string> vfbs;
    Flavour flavour = Flavour::Ioemu;
};

struct GuestIdentity {
    DomId domid = 0;
    std::string name;
    std::string uuid;
};

// Finds and parses a guest's stub-domain configuration.
class StubSpecSource {
public:
    virtual ~StubSpecSource() = default;
    // nullopt when the guest has no stub-domain configuration (it stays unmanaged);
    // throws Error(InvalidConfig) with "file:line: message" when the file is bad.
    virtual std::optional<StubSpec> load(const std::string& guestName) = 0;
};

} // namespace stubdomd
