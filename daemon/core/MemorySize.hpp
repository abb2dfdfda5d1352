// A stub domain's memory as a dom0 administrator writes it in a stub config: plain MiB as
// xl's `memory`, or with a unit as people write it for libxl's `stubdomain_memory`
// ("500M", "512MiB", "1G", "524288K"). M, MB and MiB all mean MiB, as in xl and
// Xen's command line (dom0_mem=512M): nobody means 10^6 bytes of a domain's memory.
#pragma once

#include "Types.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace stubdomd {

// MiB, or nullopt for anything else: no number, an unknown unit, zero, a KiB count that is
// not whole MiB, or more than 1 TiB (surely a unit mistake for a stub domain).
std::optional<std::uint64_t> parseMemoryMiB(std::string_view text);

// The least a stub domain of `flavour` is started with. linux: libxl's own
// LIBXL_LINUX_STUBDOM_MEM (128 MiB); the image stubdom-mkimage builds unpacks to ~41 MiB
// before QEMU maps the guest. ioemu: 16 MiB, a floor rather than a measure (libxl's default
// is 28 MiB plus video memory), which keeps out only a value that cannot be meant.
std::uint64_t minimumStubMemoryMiB(Flavour flavour);

} // namespace stubdomd
