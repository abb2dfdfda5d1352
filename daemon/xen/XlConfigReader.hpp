// Reads a guest's stub-domain configuration, <xen config dir>/stubdom-<guest name>, with
// libxlutil: the same parser, syntax and "file:line: ..." messages as xl itself.
//
// Keys read (all optional):
//   kernel = "PATH"        ramdisk = "PATH"        memory = MiB (a positive integer)
//   stubdomain_kernel / stubdomain_ramdisk: libxl's names for kernel / ramdisk (one of each)
//   vif = [ '...', ... ]   disk = [ '...', ... ]   vfb = [ '...', ... ]
//   flavour = "ioemu" | "linux"
// The flavour is `flavour` when set, else the one the kernel or ramdisk names by its file
// name (qemu-stubdom-linux-kernel / -rootfs: linux, ioemu-stubdom.gz: ioemu), else the
// reader's default (stubdomd.json's default_flavour); settings that disagree are an error
// (core/StubFlavour.hpp).
// Every disk entry is checked with xlu_disk_parse. Errors are Error(InvalidConfig)
// with the file (and line when known) in the message:
//   /etc/xen/stubdom-g:3: config parsing error near `=': syntax error, ...   (libxlutil's)
//   /etc/xen/stubdom-g:2: 'memory' must be a positive integer (MiB), got "lots"
//   /etc/xen/stubdom-g:4: 'flavour' must be 'ioemu' or 'linux', got "pv"
//   /etc/xen/stubdom-g:2: 'flavour' is "ioemu", but 'kernel' "/usr/lib/xen/boot/qemu-stubdom-
//       linux-kernel" is the linux stub domain's
//   /etc/xen/stubdom-g:3: bad disk entry 2 'phy:': <libxlutil's message>
//   cannot read /etc/xen/stubdom-g: Permission denied
// Unknown keys only log a warning naming the file, line and key: xl ignores keys it does
// not know too, and a stub config copied from a full xl config (name, builder, ...)
// should still work; the warning tells the administrator which lines have no effect.
#pragma once

#include "core/StubSpec.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace stubdomd {

// A guest name that can become a file name: non-empty, not "." or "..", no '/', no NUL
// or other control character, and short enough that "stubdom-<name>" fits NAME_MAX.
// Names come from dom0-owned xenstore nodes, but they are still checked before they
// build a path.
bool isValidGuestName(std::string_view name);

class XlConfigReader final : public StubSpecSource {
public:
    explicit XlConfigReader(std::string xenConfigDir, Flavour defaultFlavour = Flavour::Ioemu);

    // nullopt when <dir>/stubdom-<guestName> does not exist; throws Error(InvalidConfig)
    // when the name is not valid, the file cannot be read or is not a valid stub config.
    std::optional<StubSpec> load(const std::string& guestName) override;

    // "<dir>/stubdom-<guestName>"; throws Error(InvalidConfig) for an invalid name.
    std::string pathFor(const std::string& guestName) const;

    // Parses the file at `path` (which must exist); `guestName` only labels log lines.
    static StubSpec readFile(const std::string& path, const std::string& guestName = {},
                             Flavour defaultFlavour = Flavour::Ioemu);

    // Parses `text` as if it were the file `source`.
    static StubSpec parse(const std::string& text, const std::string& source,
                          const std::string& guestName = {},
                          Flavour defaultFlavour = Flavour::Ioemu);

private:
    std::string dir_;
    Flavour defaultFlavour_;
};

} // namespace stubdomd
