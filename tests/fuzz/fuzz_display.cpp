// The display rules (core/Display) on the configs an administrator writes and the choice
// a SetDisplay caller makes. The input is three parts separated by lines "---":
//   the guest's own xl config (vnc, sdl, vnclisten, vncdisplay, keymap, ...)
//   ---
//   the stub-domain config (vif, vfb, ...)
//   ---
//   mode=vnc-dom0 address=10.0.0.1 port=5901 keymap=de DISPLAY=:0 XAUTHORITY=/x
// (the last part optional: without it the configs decide). A set-up is a plan or
// Error(InvalidDisplay); an accepted plan must give a VNC port a client can use, and
// the stub config written with it must read back with exactly the plan's vifs and vfbs.
#include "FuzzCheck.hpp"
#include "GeneratedConfig.hpp"
#include "core/Display.hpp"
#include "xen/GuestConfigReader.hpp"
#include "xen/XlConfigReader.hpp"

#include <charconv>
#include <optional>
#include <sstream>

using namespace stubdomd;

namespace {

struct Parts {
    std::string guest, stub;
    std::optional<std::string> choice;
};

Parts split(const std::string& text) {
    Parts parts;
    std::string* into = &parts.guest;
    std::istringstream lines(text);
    int section = 0;
    for (std::string line; std::getline(lines, line);) {
        if (line == "---" && section < 2) {
            ++section;
            if (section == 1) {
                into = &parts.stub;
            } else {
                parts.choice.emplace();
                into = &*parts.choice;
            }
            continue;
        }
        *into += line + "\n";
    }
    return parts;
}

struct Choice {
    std::optional<DisplayChoice> choice;
    DisplayEnvironment environment;
};

// "key=value" words; an unknown mode or a port that is no int32 is no valid choice.
std::optional<Choice> parseChoice(const std::string& text) {
    Choice out;
    std::istringstream words(text);
    for (std::string word; words >> word;) {
        const auto eq = word.find('=');
        const std::string key = word.substr(0, eq);
        const std::string value = eq == std::string::npos ? "" : word.substr(eq + 1);
        if (key == "DISPLAY") {
            out.environment.display = value;
            continue;
        }
        if (key == "XAUTHORITY") {
            out.environment.xauthority = value;
            continue;
        }
        if (!out.choice)
            out.choice.emplace();
        if (key == "mode") {
            const auto mode = displayModeFromString(value);
            if (!mode)
                return std::nullopt;
            out.choice->mode = *mode;
        } else if (key == "address") {
            out.choice->address = value;
        } else if (key == "keymap") {
            out.choice->keymap = value;
        } else if (key == "port") {
            std::int32_t port = 0;
            const auto [end, error] =
                std::from_chars(value.data(), value.data() + value.size(), port);
            if (error != std::errc() || end != value.data() + value.size())
                return std::nullopt;
            out.choice->port = port;
        }
    }
    return out;
}

void checkPlan(const StubSpec& stub, const DisplayPlan& plan) {
    if ((plan.mode == DisplayMode::VncStubdom || plan.mode == DisplayMode::VncDom0) &&
        !plan.portFromStore && (plan.port < 5900 || plan.port > 65535))
        fuzz::finding("a VNC plan with port " + std::to_string(plan.port));
    if (plan.mode == DisplayMode::VncStubdom && plan.address.empty())
        fuzz::finding("vnc-stubdom without an address");
    if (plan.vfbs.size() > 1)
        fuzz::finding("a plan with " + std::to_string(plan.vfbs.size()) + " vfbs");

    std::string generated;
    const std::optional<StubSpec> back = fuzz::writeAndReadBack(withDisplay(stub, plan), generated);
    if (back && (back->vifs != plan.vifs || back->vfbs != plan.vfbs))
        fuzz::finding("the generated config's vifs or vfbs differ from the plan's\n" + generated);
    try {
        deviceModelArgs(fuzz::fuzzGuest(), plan.deviceModel);
    } catch (const Error& e) {
        fuzz::expectRefusal(e, {ErrorCode::InvalidConfig}, "deviceModelArgs");
    }
    displayUri(plan.mode, plan.address, plan.port);
}

// One device string read, written and read again gives the same keys.
void checkDeviceStrings(const StubSpec& stub) {
    for (const auto* list : {&stub.vifs, &stub.vfbs})
        for (const std::string& entry : *list) {
            const DeviceKeys keys = parseDeviceString(entry);
            if (parseDeviceString(formatDeviceString(keys)) != keys)
                fuzz::finding("device string '" + entry + "' does not survive a rewrite");
        }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    fuzz::silenceLog();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const Parts parts = split(fuzz::inputText(data, size));
    std::optional<GuestDisplayConfig> guest;
    std::optional<StubSpec> stub;
    try {
        guest = GuestConfigReader::parse(parts.guest, "guest");
        stub = XlConfigReader::parse(parts.stub, "stubdom-guest", "guest");
    } catch (const Error& e) {
        fuzz::expectRefusal(e, {ErrorCode::InvalidConfig}, "reading the configs");
        return 0;
    }
    const std::optional<Choice> choice = parts.choice ? parseChoice(*parts.choice) : Choice{};
    if (!choice)
        return 0;
    checkDeviceStrings(*stub);

    DisplayInputs in;
    in.stub = &*stub;
    in.guest = &*guest;
    in.choice = choice->choice ? &*choice->choice : nullptr;
    in.environment = choice->environment;
    try {
        checkPlan(*stub, planDisplay(in));
    } catch (const Error& e) {
        fuzz::expectRefusal(e, {ErrorCode::InvalidDisplay}, "planDisplay");
    }
    return 0;
}
