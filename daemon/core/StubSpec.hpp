// A guest's stub-domain configuration (<xen config dir>/stubdom-<name>), as parsed
// from xl syntax, and the identity of the guest it serves.
#pragma once

#include "Types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stubdomd {

// What the Linux stub's qemu needs of one `disk` entry (as xlu_disk_parse reads it) to
// emulate the disk for the guest.
struct StubDisk {
    std::string vdev;      // "hda", "xvdb", "hdc"
    bool cdrom = false;    // devtype=cdrom or the ":cdrom" suffix
    bool readwrite = true; // mode w
    bool empty = false;    // a cdrom drive with no medium
};

struct StubSpec {
    std::string sourceFile;             // for messages: "/etc/xen/stubdom-hvmconfig"
    std::optional<std::string> kernel;  // unset: the flavour's default (StubFlavour.hpp)
    std::optional<std::string> ramdisk; // unset: the flavour's default (linux: its rootfs)
    std::optional<std::uint64_t> memoryMiB;
    std::vector<std::string> vifs; // vifs[0] is reserved for VNC in the stub domain
    std::vector<std::string> disks;
    std::vector<StubDisk> diskDevices; // disks[i] parsed, when it came from a file
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
