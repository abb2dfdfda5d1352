// What a spawn needs beyond the stub config: the guest's memory as the toolstack recorded
// it, the flavour's images on disk, and the device-model arguments of the link step.
#include "core/SpawnPipeline.hpp"

#include "core/Excerpt.hpp"
#include "core/LinuxDeviceModel.hpp"
#include "core/Log.hpp"
#include "core/StubFlavour.hpp"
#include "core/XenPaths.hpp"

#include <cstdlib>

namespace stubdomd {

namespace {

// A KiB count as libxl writes it, from a node only dom0 may write; nullopt for anything
// else, and a refused or malformed node is logged (the caller falls back to a default).
std::optional<std::uint64_t> kib(DomainProbe& probe, const std::string& path,
                                 const LogFields& fields) {
    const auto value = valueOrLoggedRefusal(probe.readTrusted(path), fields);
    if (!value)
        return std::nullopt;
    if (value->empty() || value->find_first_not_of("0123456789") != std::string::npos ||
        value->size() > 15) {
        logWarning(fields, path + " is '" + excerpt(*value) + "', not a KiB count; ignoring it");
        return std::nullopt;
    }
    return std::strtoull(value->c_str(), nullptr, 10);
}

std::uint64_t kibToMib(std::uint64_t kib) {
    return (kib + 1023) / 1024; // libxl__sizekb_to_mb rounds up
}

} // namespace

// libxl records the guest's video memory at memory/videoram (dom0-owned); without it (a
// guest the toolstack did not make), the display settings' videoram.
std::optional<unsigned> SpawnPipeline::guestVideoRamMiB(const Guest& guest) {
    if (const auto video = kib(probe_, paths::memoryVideoram(guest.view.domid), fieldsOf(guest)))
        return static_cast<unsigned>(kibToMib(*video));
    if (guest.display && guest.display->deviceModel.videoRamMiB)
        return guest.display->deviceModel.videoRamMiB;
    return std::nullopt;
}

// What libxl passes as qemu's -m: max_memkb minus video_memkb.
std::optional<std::uint64_t> SpawnPipeline::guestRamMiB(const Guest& guest,
                                                        std::optional<unsigned> video) {
    const auto max = kib(probe_, paths::memoryStaticMax(guest.view.domid), fieldsOf(guest));
    const std::uint64_t videoKiB = std::uint64_t{video.value_or(0)} * 1024;
    if (!max || *max <= videoKiB)
        return std::nullopt;
    return kibToMib(*max - videoKiB);
}

// "" when the images are there; else which one is missing, for the guest's StateReason.
std::string SpawnPipeline::missingStubImage(const StubSpec& spec) const {
    if (spec.flavour != Flavour::Linux || !deps_.fileReadable)
        return "";
    const std::string kernel = stubKernel(spec, settings_);
    if (!deps_.fileReadable(kernel))
        return "the Linux stub domain's kernel " + kernel +
               " cannot be read (install Xen's qemu-stubdom-linux images, or set "
               "linux_stub_kernel in stubdomd.json or kernel in " +
               spec.sourceFile + ")";
    if (const auto rootfs = stubRamdisk(spec, settings_); rootfs && !deps_.fileReadable(*rootfs))
        return "the Linux stub domain's rootfs " + *rootfs +
               " cannot be read (install Xen's qemu-stubdom-linux images, or set "
               "linux_stub_rootfs in stubdomd.json or ramdisk in " +
               spec.sourceFile + ")";
    return "";
}

LinkRequest SpawnPipeline::linkRequest(const Guest& guest, DomId stub) {
    const GuestIdentity identity{guest.view.domid, guest.view.name, guest.view.uuid};
    DeviceModelOptions display = guest.display ? guest.display->deviceModel : DeviceModelOptions{};
    LinkRequest request{guest.view.domid, stub, guest.view.uuid, {}, guest.spec->flavour, {}};
    if (guest.spec->flavour != Flavour::Linux) {
        request.deviceModelArgs = deviceModelArgs(identity, display);
        return request;
    }
    const auto attempt = attemptOf(guest.view.domid);
    const std::optional<unsigned> video = attempt ? attempt->videoRamMiB : guestVideoRamMiB(guest);
    if (video)
        display.videoRamMiB = video;
    // libxl's "-vnc ...,password=on" when the guest has a VNC password: qemu then
    // takes it over QMP (change-vnc-password) once it runs.
    if (display.vnc && display_.startsWithVncPassword(guest))
        *display.vnc += ",password=on";
    request.deviceModelArgv = linuxDeviceModelArgv(
        identity, {display, guestRamMiB(guest, video), guest.spec->diskDevices});
    return request;
}

} // namespace stubdomd
