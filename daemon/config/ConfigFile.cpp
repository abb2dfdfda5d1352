// Loading stubdomd.json: every key checked by hand so that each mistake gets a message
// with the key's JSON path, rather than nlohmann's generic type_error.
#include "config/ConfigFile.hpp"
#include "host/TextFile.hpp"

#include "core/Errors.hpp"
#include "core/Types.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <set>
#include <string_view>
#include <vector>

namespace stubdomd {

namespace {

using json = nlohmann::json;

constexpr std::string_view kTopKeys[] = {
    "toolstack",
    "xen_config_dir",
    "state_dir",
    "runtime_dir",
    "stub_kernel",
    "stub_memory_mib",
    "start_timeout_ms",
    "toolstack_timeout_ms",
    "max_parallel_spawns",
    "on_stubdom_death",
    "max_restarts",
    "exports_dir",
    "keymaps_dir",
    "xen_lib_dir",
    "helpers",
    "xen_boot_dir",
    "grub_xen_dir",
    "default_flavour",
    "linux_stub_kernel",
    "linux_stub_rootfs",
    "linux_stub_memory_mib",
    "linux_stub_cmdline",
    "vchan_socket_proxy",
    "qmp_socket_dir",
    "qmp_timeout_ms",
    "log_dir",
    "stub_log_max_bytes",
    "pause_on_host_sleep",
};

constexpr std::string_view kHelperKeys[] = {
    "name",
    "path",
    "args",
    "enabled",
    "required",
    "start_limit_burst",
    "start_limit_interval_s",
    "stop_timeout_ms",
    "restart_delay_ms",
    "restart_delay_max_ms",
    "serves_exports",
};

std::size_t editDistance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0u : 1u)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// "string \"four\"", "number -3", "boolean true", "array", "object", "null": enough for
// the administrator to see what was written without echoing a whole sub-tree.
std::string describe(const json& value) {
    if (value.is_object())
        return "an object";
    if (value.is_array())
        return "an array";
    if (value.is_null())
        return "null";
    std::string text = value.dump();
    if (text.size() > 60)
        text = text.substr(0, 57) + "...";
    return std::string(value.type_name()) + " " + text;
}

class Parser {
public:
    explicit Parser(const std::string& source) : source_(source) {}

    [[noreturn]] void fail(const std::string& message) const {
        throw Error(ErrorCode::InvalidConfig, source_ + ": " + message);
    }

    template <std::size_t N>
    void checkKeys(const json& object, const std::string_view (&known)[N],
                   const std::string& prefix) const {
        for (const auto& item : object.items()) {
            const std::string& key = item.key();
            if (std::find(std::begin(known), std::end(known), key) != std::end(known))
                continue;
            std::string message = "unknown key '" + prefix + key + "'";
            // Suggest a key only when it is plausibly a typo of this one.
            std::string_view best;
            std::size_t bestDistance = std::numeric_limits<std::size_t>::max();
            for (std::string_view candidate : known) {
                const std::size_t d = editDistance(key, candidate);
                if (d < bestDistance) {
                    bestDistance = d;
                    best = candidate;
                }
            }
            if (bestDistance <= std::max<std::size_t>(1, std::min(key.size(), best.size()) / 3))
                message += " (did you mean '" + std::string(best) + "'?)";
            fail(message);
        }
    }

    // Any string without a NUL, the empty one included.
    std::string text(const json& value, const std::string& path) const {
        if (!value.is_string())
            fail("'" + path + "' must be a string, got " + describe(value));
        std::string chars = value.get<std::string>();
        if (chars.find('\0') != std::string::npos)
            fail("'" + path + "' must not contain a NUL character");
        return chars;
    }

    std::string string(const json& value, const std::string& path) const {
        std::string nonEmpty = text(value, path);
        if (nonEmpty.empty())
            fail("'" + path + "' must not be empty");
        return nonEmpty;
    }

    // A PV kernel's command line: may be empty (none). Xen passes at most MAX_GUEST_CMDLINE
    // (1024) bytes with the NUL and libxc cuts the rest without a word, so a longer one is
    // refused here.
    std::string kernelCmdline(const json& value, const std::string& path) const {
        std::string line = text(value, path);
        constexpr std::size_t maxBytes = 1023;
        if (line.size() > maxBytes)
            fail("'" + path + "' must be at most " + std::to_string(maxBytes) +
                 " bytes (Xen's limit for a PV kernel's command line), got " +
                 std::to_string(line.size()));
        return line;
    }

    bool boolean(const json& value, const std::string& path) const {
        if (!value.is_boolean())
            fail("'" + path + "' must be true or false, got " + describe(value));
        return value.get<bool>();
    }

    // An integer in [min, max]; floats (even 4.0), strings and booleans are refused so a
    // quoted "4" is caught rather than guessed at.
    std::uint64_t integer(const json& value, const std::string& path, std::uint64_t min,
                          std::uint64_t max) const {
        const std::string kind = min == 0 ? "a non-negative integer" : "a positive integer";
        if (!value.is_number_integer())
            fail("'" + path + "' must be " + kind + ", got " + describe(value));
        if (!value.is_number_unsigned())
            fail("'" + path + "' must be " + kind + ", got " + describe(value));
        const auto number = value.get<std::uint64_t>();
        if (number < min)
            fail("'" + path + "' must be " + (min > 1 ? "at least " + std::to_string(min) : kind) +
                 ", got " + describe(value));
        if (number > max)
            fail("'" + path + "' must be at most " + std::to_string(max) + ", got " +
                 describe(value));
        return number;
    }

    HelperSettings helper(const json& value, const std::string& path) const {
        if (!value.is_object())
            fail("'" + path + "' must be an object, got " + describe(value));
        checkKeys(value, kHelperKeys, path + ".");
        HelperSettings helper;
        for (const char* required : {"name", "path"})
            if (!value.contains(required))
                fail("'" + path + "." + required + "' is required");
        constexpr auto unsignedMax = std::numeric_limits<unsigned>::max();
        for (const auto& item : value.items()) {
            const std::string& key = item.key();
            const json& v = item.value();
            const std::string at = path + "." + key;
            if (key == "name") {
                helper.name = string(v, at);
                // The name becomes a D-Bus object path element (/org/xen/Stubdom/helper/<name>).
                const bool ok = std::all_of(helper.name.begin(), helper.name.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_';
                });
                if (!ok)
                    fail("'" + at + "' must contain only letters, digits, '-' and '_', got " +
                         describe(v));
            } else if (key == "path") {
                helper.path = string(v, at);
            } else if (key == "args") {
                if (!v.is_array())
                    fail("'" + at + "' must be an array of strings, got " + describe(v));
                for (std::size_t i = 0; i < v.size(); ++i) {
                    const std::string argPath = at + "[" + std::to_string(i) + "]";
                    if (!v[i].is_string())
                        fail("'" + argPath + "' must be a string, got " + describe(v[i]));
                    // An empty argument is legitimate on a command line.
                    helper.args.push_back(v[i].get<std::string>());
                }
            } else if (key == "enabled") {
                helper.enabled = boolean(v, at);
            } else if (key == "required") {
                helper.required = boolean(v, at);
            } else if (key == "start_limit_burst") {
                helper.startLimitBurst = static_cast<unsigned>(integer(v, at, 1, unsignedMax));
            } else if (key == "start_limit_interval_s") {
                helper.startLimitInterval = std::chrono::seconds(integer(v, at, 1, 86400 * 365));
            } else if (key == "stop_timeout_ms") {
                helper.stopTimeout = std::chrono::milliseconds(integer(v, at, 1, 86400000ull));
            } else if (key == "restart_delay_ms") {
                helper.restartDelay = std::chrono::milliseconds(integer(v, at, 1, 86400000ull));
            } else if (key == "restart_delay_max_ms") {
                helper.restartDelayMax = std::chrono::milliseconds(integer(v, at, 1, 86400000ull));
            } else if (key == "serves_exports") {
                helper.servesExports = boolean(v, at);
            }
        }
        return helper;
    }

    Settings settings(const json& root, Settings result) const {
        if (!root.is_object())
            fail("the top level must be a JSON object, got " + describe(root));
        checkKeys(root, kTopKeys, "");
        constexpr auto unsignedMax = std::numeric_limits<unsigned>::max();
        // A day bounds every timeout: larger values are surely a unit mistake.
        constexpr std::uint64_t maxTimeoutMs = 86400000ull;
        for (const auto& item : root.items()) {
            const std::string& key = item.key();
            const json& v = item.value();
            if (key == "toolstack") {
                result.toolstack = string(v, key);
            } else if (key == "xen_config_dir") {
                result.xenConfigDir = string(v, key);
            } else if (key == "state_dir") {
                result.stateDir = string(v, key);
            } else if (key == "runtime_dir") {
                result.runtimeDir = string(v, key);
            } else if (key == "stub_kernel") {
                result.stubKernel = string(v, key);
            } else if (key == "linux_stub_kernel") {
                result.linuxStubKernel = string(v, key);
            } else if (key == "linux_stub_rootfs") {
                result.linuxStubRootfs = string(v, key);
            } else if (key == "log_dir") {
                result.logDir = string(v, key);
            } else if (key == "stub_log_max_bytes") {
                // 1 TiB: far above any sane log, low enough to be no unit mistake.
                result.stubLogMaxBytes = integer(v, key, kConsoleLogMinMaxBytes, 1ull << 40);
            } else if (key == "default_flavour") {
                // pv-grub names a kind of guest stubdomd lists, not a stub domain it spawns.
                std::optional<Flavour> flavour;
                if (v.is_string())
                    flavour = flavourFromString(v.get<std::string>());
                if (!flavour || *flavour == Flavour::PvGrub)
                    fail("'" + key + "' must be one of ioemu, linux; got " + describe(v));
                result.defaultFlavour = *flavour;
            } else if (key == "exports_dir") {
                result.exportsDir = string(v, key);
            } else if (key == "keymaps_dir") {
                result.keymapsDir = string(v, key);
            } else if (key == "xen_lib_dir") {
                result.xenLibDir = string(v, key);
            } else if (key == "xen_boot_dir") {
                result.xenBootDir = string(v, key);
            } else if (key == "grub_xen_dir") {
                result.grubXenDir = string(v, key);
            } else if (key == "vchan_socket_proxy") {
                result.vchanSocketProxy = string(v, key);
            } else if (key == "qmp_socket_dir") {
                result.qmpSocketDir = string(v, key);
            } else if (key == "pause_on_host_sleep") {
                result.pauseOnHostSleep = boolean(v, key);
            } else if (key == "qmp_timeout_ms") {
                result.qmpTimeout = std::chrono::milliseconds(integer(v, key, 1, maxTimeoutMs));
            } else if (key == "stub_memory_mib") {
                // 1 TiB: far above any stub domain, low enough to stay a sane MiB count.
                result.stubMemoryMiB = integer(v, key, 1, 1024 * 1024);
            } else if (key == "linux_stub_cmdline") {
                result.linuxStubCmdline = kernelCmdline(v, key);
            } else if (key == "linux_stub_memory_mib") {
                result.linuxStubMemoryMiB = integer(v, key, 1, 1024 * 1024);
            } else if (key == "start_timeout_ms") {
                result.startTimeout = std::chrono::milliseconds(integer(v, key, 1, maxTimeoutMs));
            } else if (key == "toolstack_timeout_ms") {
                result.toolstackTimeout =
                    std::chrono::milliseconds(integer(v, key, 1, maxTimeoutMs));
            } else if (key == "max_parallel_spawns") {
                result.maxParallelSpawns = static_cast<unsigned>(integer(v, key, 1, unsignedMax));
            } else if (key == "max_restarts") {
                result.maxRestarts = static_cast<unsigned>(integer(v, key, 0, unsignedMax));
            } else if (key == "on_stubdom_death") {
                std::optional<StubDeathPolicy> policy;
                if (v.is_string())
                    policy = stubDeathPolicyFromString(v.get<std::string>());
                if (!policy)
                    fail("'" + key + "' must be one of crash-guest, restart, leave; got " +
                         describe(v));
                result.onStubdomDeath = *policy;
            } else if (key == "helpers") {
                if (!v.is_array())
                    fail("'helpers' must be an array of objects, got " + describe(v));
                result.helpers.clear();
                std::set<std::string> names;
                for (std::size_t i = 0; i < v.size(); ++i) {
                    const std::string path = "helpers[" + std::to_string(i) + "]";
                    HelperSettings helper = this->helper(v[i], path);
                    if (!names.insert(helper.name).second)
                        fail("'" + path + ".name': helper '" + helper.name + "' is defined twice");
                    if (helper.restartDelayMax < helper.restartDelay)
                        fail("'" + path + ".restart_delay_max_ms' must not be below '" + path +
                             ".restart_delay_ms'");
                    result.helpers.push_back(std::move(helper));
                }
            }
        }
        return result;
    }

private:
    const std::string& source_;
};

// nlohmann reports the byte offset of the last character it read (1-based: the end of
// the offending token, as in its own message); editors and people want line:column.
std::pair<std::size_t, std::size_t> lineAndColumn(const std::string& text, std::size_t byte) {
    const std::size_t end = std::min(byte == 0 ? 0 : byte - 1, text.size());
    std::size_t line = 1;
    std::size_t lineStart = 0;
    for (std::size_t i = 0; i < end; ++i) {
        if (text[i] == '\n') {
            ++line;
            lineStart = i + 1;
        }
    }
    return {line, end - lineStart + 1};
}

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line 1, column 2:
// syntax error while parsing value - ..."; keep only the part after the position.
std::string parseErrorDetail(const char* what) {
    std::string text = what;
    const auto at = text.find("parse error");
    if (at != std::string::npos) {
        const auto colon = text.find(": ", at);
        if (colon != std::string::npos)
            return text.substr(colon + 2);
    }
    return text;
}

} // namespace

Settings parseSettings(const std::string& text, const std::string& source, const Settings& base) {
    json root;
    try {
        root = json::parse(text);
    } catch (const json::parse_error& e) {
        const auto [line, column] = lineAndColumn(text, e.byte);
        throw Error(ErrorCode::InvalidConfig,
                    source + ":" + std::to_string(line) + ":" + std::to_string(column) +
                        ": JSON syntax error: " + parseErrorDetail(e.what()));
    } catch (const json::exception& e) {
        // A number no double holds (1e999) is out_of_range, not a parse_error; unlike
        // parse_error it escaped to std::terminate, on Reload as well as at start.
        std::string detail = e.what();
        if (const auto bracket = detail.find("] ");
            !detail.empty() && detail.front() == '[' && bracket != std::string::npos)
            detail.erase(0, bracket + 2);
        throw Error(ErrorCode::InvalidConfig, source + ": JSON: " + detail);
    }
    return Parser(source).settings(root, base);
}

Settings loadSettings(const std::string& path, IfMissing ifMissing) {
    const std::optional<std::string> text = readTextFile(path);
    if (!text) {
        if (ifMissing == IfMissing::UseDefaults)
            return Settings{};
        throw Error(ErrorCode::InvalidConfig, "cannot read " + path + ": " + std::strerror(ENOENT));
    }
    return parseSettings(*text, path);
}

} // namespace stubdomd
