#include "core/StubFlavour.hpp"

namespace stubdomd {

namespace {

std::string_view baseName(std::string_view path) {
    const auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string quoted(const std::string& text) {
    return "\"" + text + "\"";
}

} // namespace

std::optional<Flavour> flavourOfImage(std::string_view path) {
    const std::string_view name = baseName(path);
    if (name == kLinuxKernelName || name == kLinuxRootfsName)
        return Flavour::Linux;
    if (name == kIoemuKernelName)
        return Flavour::Ioemu;
    return std::nullopt;
}

std::variant<Flavour, FlavourConflict> chooseFlavour(const FlavourHints& hints,
                                                     Flavour defaultFlavour) {
    const auto byKernel = hints.kernel ? flavourOfImage(*hints.kernel) : std::nullopt;
    const auto byRamdisk = hints.ramdisk ? flavourOfImage(*hints.ramdisk) : std::nullopt;

    if (byKernel && byRamdisk && *byKernel != *byRamdisk)
        return FlavourConflict{hints.ramdiskKey,
                               "'" + hints.ramdiskKey + "' " + quoted(*hints.ramdisk) + " is the " +
                                   std::string(toString(*byRamdisk)) + " stub domain's, but '" +
                                   hints.kernelKey + "' " + quoted(*hints.kernel) + " is the " +
                                   std::string(toString(*byKernel)) + " stub domain's"};
    const auto byImages = byKernel ? byKernel : byRamdisk;
    const std::string& imageKey = byKernel ? hints.kernelKey : hints.ramdiskKey;
    const std::string& image = byKernel ? *hints.kernel : (hints.ramdisk ? *hints.ramdisk : "");

    if (hints.explicitFlavour && byImages && *hints.explicitFlavour != *byImages)
        return FlavourConflict{"flavour",
                               "'flavour' is \"" + std::string(toString(*hints.explicitFlavour)) +
                                   "\", but '" + imageKey + "' " + quoted(image) + " is the " +
                                   std::string(toString(*byImages)) + " stub domain's"};
    return hints.explicitFlavour.value_or(byImages.value_or(defaultFlavour));
}

std::string stubKernel(const StubSpec& spec, const Settings& settings) {
    if (spec.kernel)
        return *spec.kernel;
    return spec.flavour == Flavour::Linux ? settings.linuxStubKernel : settings.stubKernel;
}

std::optional<std::string> stubRamdisk(const StubSpec& spec, const Settings& settings) {
    if (spec.ramdisk)
        return spec.ramdisk;
    if (spec.flavour == Flavour::Linux)
        return settings.linuxStubRootfs;
    return std::nullopt;
}

std::uint64_t stubMemoryMiB(const StubSpec& spec, const Settings& settings,
                            std::optional<unsigned> videoRamMiB) {
    if (spec.memoryMiB)
        return *spec.memoryMiB;
    if (spec.flavour == Flavour::Linux)
        return settings.linuxStubMemoryMiB + videoRamMiB.value_or(kDefaultLinuxVideoRamMiB);
    return settings.stubMemoryMiB;
}

} // namespace stubdomd
