// The arguments of upstream qemu in a Linux stub domain, as libxl 4.17 builds them for a
// stub domain (libxl__build_device_model_args_new with device_model_stubdomain set) and
// writes them one per key to /vm/<uuid>/image/dm-argv (libxl__write_stub_dmargs). The
// stub's init reads the keys in sorted order and appends them to its qemu command line,
// after the QMP monitor it adds itself for vchan-socket-proxy (so no -chardev/-mon here).
#pragma once

#include "core/StubConfigWriter.hpp"
#include "core/StubSpec.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stubdomd {

struct LinuxDeviceModelInputs {
    DeviceModelOptions display;          // -vnc (vnc-stubdom only), -k, the video memory
    std::optional<std::uint64_t> ramMiB; // the guest's RAM: static-max minus video memory
    std::vector<StubDisk> disks;         // the guest's disks, attached to the stub as xvd*
};

// In libxl's order, for what stubdomd knows of the guest:
//   -xen-domid G -no-shutdown -nodefaults -no-user-config -name N
//   [-vnc DISPLAY]      only for vnc-stubdom: qemu in the stub serves VNC on its own vif
//                       (libxl gives a stub's qemu no -vnc: its VNC is the dom0 vfb's)
//   -display none [-k KEYMAP]
//   -device cirrus-vga,vgamem_mb=V   (V: the video memory, 8 when unknown: libxl's default;
//                                     none when it is 0: libxl's record of vga = "none")
//   -boot order=cda -net none
//   -machine xenfv,suppress-vmdesc=on [-m RAM]
//   per disk, as the stub sees it (/dev/xvd<letter of its index>, format host_device):
//     hd/xvd a..d  -drive file=/dev/xvdX,if=ide,index=I,media=disk,format=host_device,
//                         cache=writeback
//     cdrom a..e   -drive if=none,readonly=on,id=ide-NUM[,file=/dev/xvdX,format=host_device]
//                  -device ide-cd,id=ide-NUM,drive=ide-NUM,bus=ide.I/2,unit=I%2
//   Other disks (sd*, or past the IDE slots) stay PV-only, as libxl leaves them.
// Not known to stubdomd and so left at qemu's or libxl's defaults: emulated NICs (none),
// vcpus (-smp), serial ports, USB, sound, the VGA kind (Cirrus), ACPI (on).
// Throws Error(InvalidConfig) for a read-only IDE disk, which upstream qemu cannot emulate
// (libxl refuses it the same way), and for a NUL byte in a value.
std::vector<std::string> linuxDeviceModelArgv(const GuestIdentity& guest,
                                              const LinuxDeviceModelInputs& inputs);

// libxl__device_disk_dev_number for the names above: hdX, xvdX (and sdX), with the disk
// index (hda, xvda: 0). nullopt for a name libxl would not number either.
struct DiskNumber {
    unsigned index = 0;
    unsigned devNumber = 0; // Xen's virtual device number (hda: 768, xvda: 51712)
};
std::optional<DiskNumber> diskNumber(const std::string& vdev);

} // namespace stubdomd
