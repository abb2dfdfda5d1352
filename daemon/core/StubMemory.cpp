// A stub domain's memory: Start's and Restart's stub-memory over the stub config's, and
// the StubMemoryMiB property.
#include "core/StubMemory.hpp"
#include "core/MemorySize.hpp"
#include "core/StubFlavour.hpp"

namespace stubdomd {

StubSpec specToSpawn(const EngineGuest& guest) {
    StubSpec spec = *guest.spec;
    if (guest.stubMemoryOverrideMiB)
        spec.memoryMiB = guest.stubMemoryOverrideMiB;
    return spec;
}

void useStubMemory(Registry& registry, const Settings& settings, EngineGuest& guest,
                   const StartOptions& options) {
    const Flavour flavour = guest.spec->flavour;
    if (options.stubMemoryMiB && *options.stubMemoryMiB < minimumStubMemoryMiB(flavour))
        throw Error(ErrorCode::InvalidArgs,
                    "stub-memory is " + std::to_string(*options.stubMemoryMiB) + " MiB; the " +
                        std::string(toString(flavour)) + " stub domain needs at least " +
                        std::to_string(minimumStubMemoryMiB(flavour)) + " MiB");
    guest.stubMemoryOverrideMiB = options.stubMemoryMiB;
    showStubMemory(registry, settings, guest);
}

// Between stubs the guest's video memory is not read (a Linux stub's share of it is read
// from xenstore when it starts): the toolstack's figure, or StubFlavour's default, so that
// listing a guest costs no reads.
void showStubMemory(Registry& registry, const Settings& settings, EngineGuest& guest) {
    std::uint64_t mib = 0;
    if (guest.spec) {
        std::optional<unsigned> video;
        if (guest.display)
            video = guest.display->deviceModel.videoRamMiB;
        mib = stubMemoryMiB(specToSpawn(guest), settings, video);
    }
    registry.mutate(guest, [mib](GuestView& v) { v.stubMemoryMiB = mib; });
}

} // namespace stubdomd
