// The daemon's settings: /etc/stubdomd/stubdomd.json, then command-line overrides.
// Defaults are those of DESIGN.md section 7.
#pragma once

#include "core/ConsoleLogs.hpp"
#include "core/Types.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace stubdomd {

struct HelperSettings {
    std::string name;              // "fs-backend"
    std::string path;              // program to run
    std::vector<std::string> args; // its arguments
    bool enabled = true;
    bool required = false;                            // stub domains wait until it runs
    unsigned startLimitBurst = 5;                     // starts ...
    std::chrono::seconds startLimitInterval{60};      // ... within this window, then `failed`
    std::chrono::milliseconds stopTimeout{5000};      // SIGTERM, then SIGKILL after this
    std::chrono::milliseconds restartDelay{1000};     // first backoff, doubled per restart ...
    std::chrono::milliseconds restartDelayMax{60000}; // ... up to this
    bool servesExports = false; // the exports tree is made (and checked) before it starts
};

// What stubdomd supervises when stubdomd.json names no helpers: the README's fs-backend.
inline HelperSettings defaultFsBackend() {
    HelperSettings fs;
    fs.name = "fs-backend";
    fs.path = "/usr/sbin/fs-backend";
    fs.servesExports = true;
    return fs;
}

struct Settings {
    std::string toolstack = "/usr/sbin/xl";
    std::string xenConfigDir = "/etc/xen";
    std::string stateDir = "/var/lib/stubdomd";
    std::string runtimeDir = "/run/stubdomd"; // generated stub-domain configs
    std::string stubKernel = "/usr/lib/xen/boot/ioemu-stubdom.gz";
    std::uint64_t stubMemoryMiB = 32;
    // The flavour of a guest whose stub config neither says `flavour` nor names a
    // flavour's images.
    Flavour defaultFlavour = Flavour::Ioemu;
    // The Linux stub domain (upstream qemu in Linux), where libxl 4.17 installs it.
    std::string linuxStubKernel = "/usr/lib/xen/boot/qemu-stubdom-linux-kernel";
    std::string linuxStubRootfs = "/usr/lib/xen/boot/qemu-stubdom-linux-rootfs";
    // Twice libxl's LIBXL_LINUX_STUBDOM_MEM (128): the image stubdom-mkimage builds from
    // Debian's packages unpacks to ~41 MiB in RAM (QEMU 7.2 and its libraries) before QEMU
    // maps the guest; the guest's video memory is added to it.
    std::uint64_t linuxStubMemoryMiB = 256;
    // The Linux stub kernel's command line (xl's `extra`; empty: none). libxl 4.17 gives a
    // Linux stub only the guest's `stubdomain_cmdline`, empty by default, so the kernel prints
    // its whole boot (~340 lines at the default loglevel 7) on the stub's console; "quiet"
    // keeps warnings and worse (loglevel 4: a panic, "Initramfs unpacking failed") and drops
    // the rest, which under emulation is time inside libxl's 60 s device-model limit.
    std::string linuxStubCmdline = "quiet";
    // Where each stub domain's console 0 (its log) goes: qemu-dm-<guest>.log, as libxl.
    std::string logDir = "/var/log/xen";
    // What one guest's log may take on disk, its rotated `.1` included.
    std::uint64_t stubLogMaxBytes = kConsoleLogDefaultMaxBytes;
    std::chrono::milliseconds startTimeout{30000};     // unpause until `running`
    std::chrono::milliseconds toolstackTimeout{60000}; // one xl command
    unsigned maxParallelSpawns = 4;
    StubDeathPolicy onStubdomDeath = StubDeathPolicy::CrashGuest;
    unsigned maxRestarts = 5; // `restart` policy: give up (failed) after this many in a row
    std::string exportsDir = "/exports";
    // Targets of <exports>/usr/share/xen/qemu/keymaps and <exports>/var/lib/xen.
    std::string keymapsDir = "/usr/share/xen/qemu/keymaps";
    std::string xenLibDir = "/var/lib/xen";
    // Where PV-GRUB images are installed: Xen's firmware dir (pv-grub-x86_{32,64}.gz)
    // and GRUB 2's Xen images (Debian's grub-xen-host: grub-{i386,x86_64}-xen.bin).
    std::string xenBootDir = "/usr/lib/xen/boot";
    std::string grubXenDir = "/usr/lib/grub-xen";
    std::vector<HelperSettings> helpers{defaultFsBackend()};
    // The QMP channel of a Linux stub domain: Xen's vchan-socket-proxy (Debian's
    // xen-utils-4.17 path) listening on <qmpSocketDir>/qmp-libxl-<guest domid>, the
    // name libxl gives it, and how long one QMP conversation may take.
    std::string vchanSocketProxy = "/usr/lib/xen-4.17/bin/vchan-socket-proxy";
    std::string qmpSocketDir = "/run/xen";
    std::chrono::milliseconds qmpTimeout{5000};
    // Hold a logind delay inhibitor and pause the running guests with their stub domains
    // while the host sleeps.
    bool pauseOnHostSleep = true;
};

} // namespace stubdomd
