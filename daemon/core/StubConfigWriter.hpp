// The stub domain's xl configuration and device-model arguments (DESIGN.md section 4,
// spawn step 1 and link step 4). Pure text: no Xen headers, so the core stays testable.
#pragma once

#include "config/Settings.hpp"
#include "core/StubSpec.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace stubdomd {

// `value` as an xl config string literal: double-quoted, with `\` `"` and the control
// characters libxlutil has escapes for (\n \r \t \a \b \f \v) escaped, so that whatever
// a value holds it stays one string and cannot end the line or add a key. Other bytes
// are written as they are (libxlutil's lexer takes any byte but a newline inside quotes).
// Throws Error(InvalidConfig) for a NUL byte, which libxlutil cannot represent.
std::string quoteXlString(std::string_view value);

// The xl config of guest's stub domain, for `xl create -p`:
//   name = "<guest name>-dm"
//   type = "pv"                        (xl >= 4.10 spelling; `builder` is deprecated)
//   kernel = spec.kernel or the flavour's default kernel (StubFlavour.hpp)
//   ramdisk = spec.ramdisk or the flavour's default (linux: its rootfs; ioemu: none)
//   memory = spec.memoryMiB or the flavour's default (linux: 128 + `videoRamMiB`, the
//            guest's video memory as libxl adds it; 8 MiB when not known)
//   vif = [ ... ] / disk = [ ... ] / vfb = [ ... ]   as the spec gives them, in order, each
//                                      only when non-empty; vifs[0] is kept even when it
//                                      is '' because the stub's ioemu reserves it for VNC
//   extra = "-d <guest domid>"         what the ioemu stub domain reads to find its guest
//                                      (ioemu only: the Linux stub reads its `target`)
//   on_poweroff/on_reboot/on_crash = "destroy"
// The three `on_*` actions are "destroy" because stubdomd decides what happens when a
// stub domain dies (the on_stubdom_death policy, which needs a fresh link to the guest
// anyway); xl's default on_reboot = "restart" would bring back an unlinked stub domain
// behind our back. libxl's own stub domains are not restarted either.
// A leading comment names the guest and the source file (quoted, so a name cannot end it).
// Throws Error(NotSupported) for a flavour that has no stub domain (pv-grub),
// Error(InvalidConfig) for a NUL byte in any value or a zero memory size.
std::string writeStubConfig(const GuestIdentity& guest, const StubSpec& spec,
                            const Settings& settings,
                            std::optional<unsigned> videoRamMiB = std::nullopt);

// What the device model is told about the guest's display, when known.
struct DeviceModelOptions {
    std::optional<unsigned> videoRamMiB; // -videoram N
    std::optional<std::string> vnc;      // -vnc <display>, e.g. "172.30.206.1:0"
    std::optional<std::string> keymap;   // -k <keymap>, e.g. "de"
};

// The ioemu (qemu-traditional) argument string for /vm/<uuid>/image/dmargs, in libxl's
// exact form: every argument preceded by one space, so " -d 5 -domain-name hvmconfig".
// libxl builds it from the dom0 qemu's arguments minus "-sdl", "-M xenfv" (the stub's
// vfb does SDL; the machine is implied); we produce the same for what stubdomd knows:
// the domid and name, then -videoram, -vnc and -k only when given. Unknown display
// settings are left out rather than guessed, so ioemu keeps its own defaults.
// The stub's ioemu splits this string on spaces, so a name or option containing
// whitespace cannot be passed: Error(InvalidConfig) instead of a stub domain that starts
// with wrong arguments.
std::string deviceModelArgs(const GuestIdentity& guest, const DeviceModelOptions& options = {});

} // namespace stubdomd
