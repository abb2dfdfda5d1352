#include "core/LinuxDeviceModel.hpp"

#include "core/Errors.hpp"
#include "core/StubFlavour.hpp"

namespace stubdomd {

namespace {

// Disk letters: "a" → 0, "z" → 25, "aa" → 26, as libxl's decode_disk_name.
std::optional<unsigned> letters(const std::string& text) {
    if (text.empty() || text.size() > 2)
        return std::nullopt;
    unsigned value = 0;
    for (const char c : text) {
        if (c < 'a' || c > 'z')
            return std::nullopt;
        value = value * 26 + static_cast<unsigned>(c - 'a' + 1);
    }
    return value - 1;
}

bool startsWith(const std::string& text, const std::string& prefix) {
    return text.compare(0, prefix.size(), prefix) == 0;
}

void checkValue(const std::string& what, const std::string& value) {
    if (value.find('\0') != std::string::npos)
        throw Error(ErrorCode::InvalidConfig,
                    what + " contains a NUL character and cannot be a qemu argument");
}

} // namespace

std::optional<DiskNumber> diskNumber(const std::string& vdev) {
    // Partitions (hda1) are no disks for qemu; names are the whole-disk ones.
    if (startsWith(vdev, "xvd")) {
        const auto index = letters(vdev.substr(3));
        if (!index)
            return std::nullopt;
        const unsigned number =
            *index < 16 ? (202u << 8) | (*index << 4) : (1u << 28) | (*index << 8);
        return DiskNumber{*index, number};
    }
    if (startsWith(vdev, "hd")) {
        const auto index = letters(vdev.substr(2));
        if (!index || *index > 3)
            return std::nullopt;
        // IDE majors 3 (hda, hdb) and 22 (hdc, hdd), 64 minors per disk.
        const unsigned major = *index < 2 ? 3u : 22u;
        return DiskNumber{*index, (major << 8) | ((*index % 2) << 6)};
    }
    if (startsWith(vdev, "sd")) {
        const auto index = letters(vdev.substr(2));
        if (!index || *index > 15)
            return std::nullopt;
        return DiskNumber{*index, (8u << 8) | (*index << 4)};
    }
    return std::nullopt;
}

std::vector<std::string> linuxDeviceModelArgv(const GuestIdentity& guest,
                                              const LinuxDeviceModelInputs& inputs) {
    checkValue("the guest name", guest.name);
    std::vector<std::string> argv{"-xen-domid",  std::to_string(guest.domid), "-no-shutdown",
                                  "-nodefaults", "-no-user-config",           "-name",
                                  guest.name};
    const DeviceModelOptions& display = inputs.display;
    if (display.vnc) {
        checkValue("the VNC display", *display.vnc);
        argv.insert(argv.end(), {"-vnc", *display.vnc});
    }
    argv.insert(argv.end(), {"-display", "none"});
    if (display.keymap) {
        checkValue("the keymap", *display.keymap);
        argv.insert(argv.end(), {"-k", *display.keymap});
    }
    // libxl records 0 video memory only for vga = "none" (Cirrus needs at least 8 MiB, and
    // libxl refuses less), and then gives qemu no VGA device; qemu refuses a 0 MiB Cirrus
    // ("Invalid cirrus_vga ram size '0'") and the stub would die at once.
    const unsigned videoRam = display.videoRamMiB.value_or(kDefaultLinuxVideoRamMiB);
    if (videoRam > 0)
        argv.insert(argv.end(), {"-device", "cirrus-vga,vgamem_mb=" + std::to_string(videoRam)});
    argv.insert(argv.end(),
                {"-boot", "order=cda", "-net", "none", "-machine", "xenfv,suppress-vmdesc=on"});
    if (inputs.ramMiB)
        argv.insert(argv.end(), {"-m", std::to_string(*inputs.ramMiB)});

    for (const StubDisk& disk : inputs.disks) {
        const auto number = diskNumber(disk.vdev);
        if (!number || startsWith(disk.vdev, "sd") || number->index > 25)
            continue; // PV only, as libxl leaves it
        const std::string target =
            "/dev/xvd" + std::string(1, static_cast<char>('a' + number->index));
        if (disk.cdrom) {
            if (number->index > 4)
                continue;
            const std::string id = "ide-" + std::to_string(number->devNumber);
            std::string drive = "if=none,readonly=on,id=" + id;
            if (!disk.empty)
                drive += ",file=" + target + ",format=host_device";
            argv.insert(argv.end(), {"-drive", drive, "-device",
                                     "ide-cd,id=" + id + ",drive=" + id + ",bus=ide." +
                                         std::to_string(number->index / 2) +
                                         ",unit=" + std::to_string(number->index % 2)});
            continue;
        }
        if (disk.empty || number->index >= 4)
            continue;
        if (!disk.readwrite)
            throw Error(ErrorCode::InvalidConfig,
                        "disk " + disk.vdev +
                            " is read-only, which upstream qemu cannot emulate as an IDE disk; "
                            "make it writable or a cdrom");
        argv.insert(argv.end(),
                    {"-drive", "file=" + target + ",if=ide,index=" + std::to_string(number->index) +
                                   ",media=disk,format=host_device,cache=writeback"});
    }
    return argv;
}

} // namespace stubdomd
