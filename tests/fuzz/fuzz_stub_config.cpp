// A stub-domain config (<xen config dir>/stubdom-<name>) as XlConfigReader reads it with
// libxlutil, then the stub domain's own config that stubdomd writes from it for
// `xl create`, read back by libxlutil. Any file is a StubSpec or Error(InvalidConfig);
// whatever is accepted must come back from the generated config unchanged, so no value
// can end a line, add a key or change a list there. The same text is read as a guest's
// own config too (GuestConfigReader, the display keys).
#include "FuzzCheck.hpp"
#include "GeneratedConfig.hpp"
#include "xen/GuestConfigReader.hpp"
#include "xen/XlConfigReader.hpp"

#include <optional>

using namespace stubdomd;

namespace {

void compareList(const char* key, const std::vector<std::string>& written,
                 const std::vector<std::string>& readBack) {
    if (written != readBack)
        fuzz::finding(std::string("the generated config's ") + key + " list reads back as " +
                      std::to_string(readBack.size()) + " entries, not the " +
                      std::to_string(written.size()) + " written");
}

void roundTrip(const StubSpec& spec) {
    std::string generated;
    const std::optional<StubSpec> back = fuzz::writeAndReadBack(spec, generated);
    if (!back)
        return;
    compareList("vif", spec.vifs, back->vifs);
    compareList("disk", spec.disks, back->disks);
    compareList("vfb", spec.vfbs, back->vfbs);
    if (spec.kernel && back->kernel != spec.kernel)
        fuzz::finding("the generated config's kernel differs from the stub config's\n" + generated);
    if (spec.ramdisk && back->ramdisk != spec.ramdisk)
        fuzz::finding("the generated config's ramdisk differs from the stub config's\n" +
                      generated);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::silenceLog();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text = fuzz::inputText(data, size);
    std::optional<StubSpec> spec;
    try {
        spec = XlConfigReader::parse(text, "stubdom-fuzz", "fuzz");
    } catch (const Error& e) {
        fuzz::expectRefusal(e, {ErrorCode::InvalidConfig}, "XlConfigReader::parse");
    }
    if (spec)
        roundTrip(*spec);
    try {
        GuestConfigReader::parse(text, "fuzz");
    } catch (const Error& e) {
        fuzz::expectRefusal(e, {ErrorCode::InvalidConfig}, "GuestConfigReader::parse");
    }
    return 0;
}
