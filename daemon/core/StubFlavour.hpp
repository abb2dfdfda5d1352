// Which stub domain serves a guest (ioemu: Mini-OS running qemu-traditional, the README's;
// linux: upstream qemu in a small Linux domain, what Xen ships since 4.x and alone since
// 4.21), and the images and memory each flavour defaults to. Pure rules: the reader turns
// a conflict into "file:line: ..." and the spawn pipeline checks the files exist.
#pragma once

#include "config/Settings.hpp"
#include "core/StubSpec.hpp"
#include "core/Types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace stubdomd {

// The file names Xen installs in its firmware directory (libxl__domain_build_info_setdefault
// picks them by device_model_version).
inline constexpr std::string_view kIoemuKernelName = "ioemu-stubdom.gz";
inline constexpr std::string_view kLinuxKernelName = "qemu-stubdom-linux-kernel";
inline constexpr std::string_view kLinuxRootfsName = "qemu-stubdom-linux-rootfs";

// The flavour a kernel or ramdisk path names by its file name, nullopt for any other name.
std::optional<Flavour> flavourOfImage(std::string_view path);

// What a stub config says about its flavour; `key` names the setting each came from.
struct FlavourHints {
    std::optional<Flavour> explicitFlavour; // flavour = "..."
    std::optional<std::string> kernel;      // kernel or stubdomain_kernel
    std::string kernelKey = "kernel";
    std::optional<std::string> ramdisk; // ramdisk or stubdomain_ramdisk
    std::string ramdiskKey = "ramdisk";
};

// A stub config that contradicts itself: `key` is the setting to blame.
struct FlavourConflict {
    std::string key;
    std::string message;
};

// The explicit flavour wins; else the one the kernel or ramdisk names; else the default.
// Settings that name different flavours are a conflict (an ioemu kernel with the Linux
// rootfs, flavour = "ioemu" with the Linux kernel, ...). Other file names say nothing:
// a custom kernel (and ramdisk, which the real-Xen test's ioemu stand-in needs) is allowed
// with either flavour.
std::variant<Flavour, FlavourConflict> chooseFlavour(const FlavourHints& hints,
                                                     Flavour defaultFlavour);

// The images and memory of a guest's stub domain, its config's values first:
//   kernel  ioemu: settings.stubKernel            linux: settings.linuxStubKernel
//   ramdisk ioemu: none                           linux: settings.linuxStubRootfs
//   memory  ioemu: settings.stubMemoryMiB         linux: settings.linuxStubMemoryMiB +
//                                                        the guest's video memory
// libxl adds the guest's video_memkb to every stub domain (the stub's qemu maps the
// framebuffer); for ioemu stubdomd keeps its own 32 MiB default, which already covers
// qemu-traditional's 4 MiB Cirrus. Video memory unknown: libxl's default for upstream
// qemu's Cirrus card, kDefaultLinuxVideoRamMiB.
inline constexpr unsigned kDefaultLinuxVideoRamMiB = 8;
std::string stubKernel(const StubSpec& spec, const Settings& settings);
std::optional<std::string> stubRamdisk(const StubSpec& spec, const Settings& settings);
std::uint64_t stubMemoryMiB(const StubSpec& spec, const Settings& settings,
                            std::optional<unsigned> videoRamMiB);

} // namespace stubdomd
