#include "dbus/server/Options.hpp"

#include "core/Errors.hpp"
#include "core/Excerpt.hpp"
#include "core/MemorySize.hpp"

#include <algorithm>

namespace stubdomd::dbus {

namespace {

std::string knownKeys(const std::vector<OptionSpec>& known) {
    if (known.empty())
        return "it takes no options";
    std::string text = "known: ";
    for (std::size_t i = 0; i < known.size(); ++i) {
        if (i)
            text += ", ";
        text += std::string(known[i].key) + " (" + std::string(known[i].signature) + ")";
    }
    return text;
}

} // namespace

void checkOption(std::string_view method, const std::string& key, const std::string& signature,
                 const std::vector<OptionSpec>& known) {
    auto spec = std::find_if(known.begin(), known.end(),
                             [&key](const OptionSpec& s) { return s.key == key; });
    if (spec == known.end())
        throw Error(ErrorCode::InvalidArgs, std::string(method) + ": unknown option '" +
                                                excerpt(key) + "' (" + knownKeys(known) + ")");
    if (signature != spec->signature)
        throw Error(ErrorCode::InvalidArgs,
                    std::string(method) + ": option '" + key + "' must be of type '" +
                        std::string(spec->signature) + "', not '" + signature + "'");
}

void checkOptions(std::string_view method, const Options& options,
                  const std::vector<OptionSpec>& known) {
    for (const auto& [key, value] : options)
        checkOption(method, key, value.peekValueType(), known);
}

const std::vector<OptionSpec>& noOptions() {
    static const std::vector<OptionSpec> none;
    return none;
}

const std::vector<OptionSpec>& setDisplayOptions() {
    static const std::vector<OptionSpec> keys{{"address", "s"}, {"keymap", "s"}, {"port", "i"}};
    return keys;
}

const std::vector<OptionSpec>& startOptionKeys() {
    static const std::vector<OptionSpec> keys{{"stub-memory", "s"}};
    return keys;
}

StartOptions startOptions(std::string_view method, const Options& options) {
    checkOptions(method, options, startOptionKeys());
    StartOptions result;
    if (auto it = options.find("stub-memory"); it != options.end()) {
        const auto text = it->second.get<std::string>();
        result.stubMemoryMiB = parseMemoryMiB(text);
        if (!result.stubMemoryMiB)
            throw Error(ErrorCode::InvalidArgs,
                        std::string(method) + ": stub-memory \"" + excerpt(text) +
                            "\" is not a memory size (a number of MiB, or with a unit: 500M, "
                            "512MiB, 1G, 524288K; at most 1024G)");
    }
    return result;
}

const std::vector<OptionSpec>& attachOptions() {
    static const std::vector<OptionSpec> keys{
        {"keymap", "s"},     {"sdl", "b"},       {"videoram", "u"},  {"vnc", "b"},
        {"vncdisplay", "u"}, {"vnclisten", "s"}, {"vncunused", "b"},
    };
    return keys;
}

std::optional<GuestDisplayConfig> toolstackDisplay(const Options& options) {
    if (options.empty())
        return std::nullopt;
    GuestDisplayConfig config;
    config.source = "the toolstack's device-model arguments (Attach)";
    auto get = [&options](const char* key, auto& into) {
        auto it = options.find(key);
        if (it != options.end())
            into = it->second.get<typename std::decay_t<decltype(into)>::value_type>();
    };
    get("vnc", config.vnc);
    get("sdl", config.sdl);
    get("vncunused", config.vncunused);
    get("vnclisten", config.vnclisten);
    get("keymap", config.keymap);
    get("vncdisplay", config.vncdisplay);
    get("videoram", config.videoramMiB);
    return config;
}

DisplayChoice displayChoice(const std::string& mode, const Options& options) {
    checkOptions("SetDisplay", options, setDisplayOptions());
    const auto known = displayModeFromString(mode);
    if (!known)
        throw Error(ErrorCode::InvalidDisplay, "SetDisplay: unknown display mode '" +
                                                   excerpt(mode) +
                                                   "' (known: none, sdl, vnc-stubdom, vnc-dom0)");
    DisplayChoice choice;
    choice.mode = *known;
    if (auto it = options.find("address"); it != options.end())
        choice.address = it->second.get<std::string>();
    if (auto it = options.find("port"); it != options.end())
        choice.port = it->second.get<std::int32_t>();
    if (auto it = options.find("keymap"); it != options.end())
        choice.keymap = it->second.get<std::string>();
    return choice;
}

} // namespace stubdomd::dbus
