// PV-GRUB (core/PvGrub, daemon/xen/PvGrubConfigReader): a PV guest's xl config as
// PvGrubCheck reads it, its `extra` as the menu location PV-GRUB reads (also given to
// PvGrubConfig as `menu`). Any config is a report or Error(InvalidConfig); any menu
// location is parsed or refused with a MenuSyntaxError whose column lies in the text.
#include "FuzzCheck.hpp"
#include "KernelFilesByName.hpp"
#include "core/PvGrub.hpp"
#include "xen/PvGrubConfigReader.hpp"

#include <optional>

using namespace stubdomd;

namespace {

void checkMenu(const std::string& extra) {
    try {
        const pvgrub::MenuLocation menu = pvgrub::parseMenuLocation(extra);
        if (pvgrub::describe(menu).empty())
            fuzz::finding("a menu location described as nothing");
    } catch (const pvgrub::MenuSyntaxError& e) {
        if (e.column() < 1 || e.column() > extra.size() + 1)
            fuzz::finding("menu syntax error at column " + std::to_string(e.column()) + " of a " +
                          std::to_string(extra.size()) + "-byte extra");
        fuzz::expectRefusal(e, {ErrorCode::InvalidConfig}, "parseMenuLocation");
    }
    fuzz::KernelFilesByName files;
    pvgrub::ConfigRequest request;
    request.arch = pvgrub::Arch::X86_64;
    request.menu = extra;
    try {
        const pvgrub::ConfigResult result = pvgrub::Rules({}, files).config(request);
        if (result.extra != extra && !extra.empty())
            fuzz::finding("PvGrubConfig wrote extra \"" + result.extra + "\" for \"" + extra +
                          "\"");
    } catch (const Error& e) {
        fuzz::expectRefusal(e, {ErrorCode::InvalidConfig}, "Rules::config");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text = fuzz::inputText(data, size);
    std::optional<pvgrub::PvGuestConfig> config;
    try {
        config = parsePvGuestConfig(text, "guest.cfg");
    } catch (const Error& e) {
        fuzz::expectRefusal(e, {ErrorCode::InvalidConfig}, "parsePvGuestConfig");
    }
    // The raw text as a menu location too: the fuzzer needs no config syntax to reach it.
    checkMenu(text);
    if (!config)
        return 0;
    if (config->extra)
        checkMenu(*config->extra);
    fuzz::KernelFilesByName files;
    try {
        pvgrub::Rules({}, files).check(*config);
    } catch (const Error& e) {
        fuzz::expectRefusal(e, {ErrorCode::InvalidConfig}, "Rules::check");
    }
    return 0;
}
