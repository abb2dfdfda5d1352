// What the fake xl takes from a guest config: the subset of xl's keys the simulated
// toolstack acts on, with libxl 4.17's defaults.
#pragma once

#include "XlConfig.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace xensim {

struct Vif {
    std::string mac; // libxl makes one up (00:16:3e:...) when the config has none
    std::string ip;
    std::string bridge = "xenbr0";
    std::string model = "rtl8139";
    std::string script = "vif-bridge";
    std::string type; // "ioemu" / "vif", empty for the default
};

struct Disk {
    std::string target; // pdev_path
    std::string vdev;
    std::string format;
    bool writable = true;
    bool cdrom = false;
};

struct Display {
    bool vnc = false;
    bool sdl = false;
    std::string vnclisten;
    long vncdisplay = 0;
    bool vncunused = true;
    std::string vncpasswd;
    std::string keymap;
    bool opengl = false;
};

struct GuestSpec {
    std::string name;
    std::array<uint8_t, 16> uuid{};
    bool hvm = false;
    long memoryMiB = 32; // libxl's default max_memkb
    long maxmemMiB = 32;
    long vcpus = 1;
    long videoMiB = 0; // HVM only

    std::optional<std::string> kernel;
    std::optional<std::string> ramdisk;
    std::optional<std::string> cmdline;

    std::vector<Vif> vifs;
    std::vector<Disk> disks;
    std::vector<Display> vfbs; // PV framebuffers

    // HVM: the emulated display and what the device model is started with.
    Display display;
    std::vector<std::string> serial;
    bool stdvga = false;
    std::string boot = "cda";
    bool usb = false;
    std::vector<std::string> usbdevices;
    std::optional<std::string> soundhw;
    bool acpi = true;
    bool xenPlatformPci = true;
    std::optional<std::string> deviceModel; // a program run in dom0 as qemu-traditional
    std::vector<std::string> deviceModelArgs;

    uint64_t memKib() const { return static_cast<uint64_t>(memoryMiB + videoMiB) * 1024; }
    uint64_t maxmemKib() const { return static_cast<uint64_t>(maxmemMiB + videoMiB) * 1024; }
};

// Reads the spec; prints xl's message and throws XlError on what xl would refuse.
GuestSpec parseGuestSpec(const XlConfig& cfg);

std::string uuidString(const std::array<uint8_t, 16>& uuid);

} // namespace xensim
