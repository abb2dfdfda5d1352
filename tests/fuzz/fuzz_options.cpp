// The a{sv} options of the D-Bus methods (dbus/server/Options, PvGrubDbus): a bus caller
// chooses every key, type and value. The input is text, one entry a line:
//   vnc-dom0                  first line: the mode SetDisplay is given
//   port i 5901               then KEY TYPE VALUE, TYPE one of s i u b x t y n q d o g as v
// The same dictionary goes to Start (no options), SetDisplay, Attach and PvGrubConfig.
// Each either takes it or refuses it with Error(InvalidArgs) (or InvalidDisplay for
// SetDisplay's mode); what checkOptions passed must then read without an sdbus::Error.
#include "FuzzCheck.hpp"
#include "KernelFilesByName.hpp"
#include "core/PvGrub.hpp"
#include "dbus/server/Options.hpp"
#include "dbus/server/PvGrubDbus.hpp"

#include <sdbus-c++/Error.h>

#include <charconv>
#include <sstream>

using namespace stubdomd;
using namespace stubdomd::dbus;

namespace {

template <typename Number> Number number(const std::string& text) {
    Number value{};
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
}

sdbus::Variant variant(const std::string& type, const std::string& value) {
    if (type == "i")
        return sdbus::Variant(number<std::int32_t>(value));
    if (type == "u")
        return sdbus::Variant(number<std::uint32_t>(value));
    if (type == "b")
        return sdbus::Variant(value == "true" || value == "1");
    if (type == "x")
        return sdbus::Variant(number<std::int64_t>(value));
    if (type == "t")
        return sdbus::Variant(number<std::uint64_t>(value));
    if (type == "y")
        return sdbus::Variant(number<std::uint8_t>(value));
    if (type == "n")
        return sdbus::Variant(number<std::int16_t>(value));
    if (type == "q")
        return sdbus::Variant(number<std::uint16_t>(value));
    if (type == "d")
        return sdbus::Variant(static_cast<double>(number<std::int64_t>(value)));
    if (type == "o")
        return sdbus::Variant(sdbus::ObjectPath(value));
    if (type == "g")
        return sdbus::Variant(sdbus::Signature(value));
    if (type == "as")
        return sdbus::Variant(std::vector<std::string>{value, value});
    if (type == "v")
        return sdbus::Variant(sdbus::Variant(value));
    return sdbus::Variant(value);
}

void tryMethods(const std::string& mode, const Options& options) {
    try {
        checkOptions("Start", options, noOptions());
        if (!options.empty())
            fuzz::finding("Start took options");
    } catch (const Error& e) {
        fuzz::expectRefusal(e, {ErrorCode::InvalidArgs}, "Start's options");
    }
    try {
        displayChoice(mode, options);
    } catch (const Error& e) {
        fuzz::expectRefusal(e, {ErrorCode::InvalidArgs, ErrorCode::InvalidDisplay},
                            "SetDisplay's options");
    }
    try {
        checkOptions("Attach", options, attachOptions());
        const auto display = toolstackDisplay(options);
        if (display.has_value() == options.empty())
            fuzz::finding("Attach's display settings and its options disagree");
    } catch (const Error& e) {
        fuzz::expectRefusal(e, {ErrorCode::InvalidArgs}, "Attach's options");
    }
    std::optional<pvgrub::ConfigRequest> request;
    try {
        request = pvGrubConfigRequest(options);
    } catch (const Error& e) {
        fuzz::expectRefusal(e, {ErrorCode::InvalidArgs}, "PvGrubConfig's options");
    }
    if (!request)
        return;
    fuzz::KernelFilesByName files;
    try {
        toDict(pvgrub::Rules({}, files).config(*request));
    } catch (const Error& e) {
        fuzz::expectRefusal(e, {ErrorCode::InvalidArgs, ErrorCode::InvalidConfig}, "PvGrubConfig");
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::istringstream lines(fuzz::inputText(data, size));
    std::string mode;
    std::getline(lines, mode);
    Options options;
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string key, type, value;
        words >> key >> type;
        std::getline(words >> std::ws, value);
        try {
            options.insert_or_assign(key, variant(type, value));
        } catch (const sdbus::Error&) {
            // No D-Bus message can carry it (a string that is not UTF-8, a malformed
            // object path or signature): the bus would have refused it before stubdomd.
        }
    }
    tryMethods(mode, options);
    return 0;
}
