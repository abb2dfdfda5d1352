#include "xen/XlConfigReader.hpp"

#include "config/TextFile.hpp"
#include "core/Errors.hpp"
#include "core/Log.hpp"
#include "xen/XluConfig.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

namespace stubdomd {

namespace {

constexpr std::string_view kPrefix = "stubdom-";
constexpr std::string_view kKnownKeys[] = {"kernel", "ramdisk", "memory", "vif",
                                           "disk",   "vfb",     "flavour"};

// libxl's disk struct owns strings that xlu_disk_parse fills in.
class Disk {
public:
    Disk() { libxl_device_disk_init(&disk_); }
    ~Disk() { libxl_device_disk_dispose(&disk_); }
    Disk(const Disk&) = delete;
    Disk& operator=(const Disk&) = delete;
    libxl_device_disk* get() { return &disk_; }

private:
    libxl_device_disk disk_;
};

class SpecReader {
public:
    SpecReader(const std::string& text, const std::string& source, const std::string& guestName)
        : config_(text, source), source_(source), guestName_(guestName) {}

    StubSpec read() {
        warnUnknownKeys();

        StubSpec spec;
        spec.sourceFile = source_;
        spec.kernel = string("kernel");
        spec.ramdisk = string("ramdisk");
        spec.memoryMiB = memory();
        spec.vifs = list("vif");
        spec.disks = list("disk");
        checkDisks(spec.disks);
        spec.vfbs = list("vfb");
        if (const auto flavour = string("flavour")) {
            if (*flavour == "ioemu")
                spec.flavour = Flavour::Ioemu;
            else if (*flavour == "linux")
                spec.flavour = Flavour::Linux;
            else
                fail("flavour", "'flavour' must be 'ioemu' or 'linux', got \"" + *flavour + "\"");
        }
        return spec;
    }

private:
    // "<source>:<line>: <what>", the line being the key's last assignment when known.
    [[noreturn]] void fail(const std::string& key, const std::string& what) const {
        config_.fail(key, what);
    }

    void warnUnknownKeys() const {
        LogFields fields;
        fields.guestName = guestName_;
        for (const auto& [key, line] : config_.keys()) {
            if (std::find(std::begin(kKnownKeys), std::end(kKnownKeys), key) !=
                std::end(kKnownKeys))
                continue;
            logWarning(fields, source_ + ":" + std::to_string(line) + ": unknown key '" + key +
                                   "' ignored (stubdomd reads only kernel, ramdisk, memory, "
                                   "vif, disk, vfb and flavour)");
        }
    }

    std::optional<std::string> string(const char* key) const {
        auto value = config_.string(key);
        if (value && value->empty())
            fail(key, "'" + std::string(key) + "' must not be empty");
        return value;
    }

    std::optional<std::uint64_t> memory() const {
        const auto text = string("memory");
        if (!text)
            return std::nullopt;
        long value = 0;
        const int error = xlu_cfg_get_long(config_.get(), "memory", &value, 1);
        if (error || value < 1)
            fail("memory", "'memory' must be a positive integer (MiB), got \"" + *text + "\"");
        return static_cast<std::uint64_t>(value);
    }

    std::vector<std::string> list(const char* key) const { return config_.list(key); }

    // The same check xl makes when it creates the domain, done now so that a bad disk
    // line fails the guest with the file's name instead of failing `xl create` later.
    void checkDisks(const std::vector<std::string>& disks) {
        for (std::size_t i = 0; i < disks.size(); ++i) {
            Disk disk;
            const char* spec = disks[i].c_str();
            const std::size_t before = config_.report().size();
            if (xlu_disk_parse(config_.get(), 1, &spec, disk.get()) == 0)
                continue;
            std::string why = oneLine(config_.report().text(before));
            const std::string prefix = source_ + ": ";
            if (why.compare(0, prefix.size(), prefix) == 0)
                why.erase(0, prefix.size());
            if (why.empty())
                why = "not a valid disk specification";
            fail("disk", "bad disk entry " + std::to_string(i + 1) + " '" + disks[i] + "': " + why);
        }
    }

    XluConfig config_;
    const std::string& source_;
    const std::string& guestName_;
};

} // namespace

bool isValidGuestName(std::string_view name) {
    if (name.empty() || name == "." || name == "..")
        return false;
    if (name.size() + kPrefix.size() > NAME_MAX)
        return false;
    return std::none_of(name.begin(), name.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return c == '/' || byte < 0x20 || byte == 0x7f;
    });
}

XlConfigReader::XlConfigReader(std::string xenConfigDir) : dir_(std::move(xenConfigDir)) {}

std::string XlConfigReader::pathFor(const std::string& guestName) const {
    if (!isValidGuestName(guestName)) {
        // Shown escaped-enough to be readable: control characters would garble the log.
        std::string shown;
        for (const char c : guestName)
            shown += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
        throw Error(ErrorCode::InvalidConfig,
                    "guest name '" + shown + "' cannot name a stub-domain config file in " + dir_);
    }
    std::string path = dir_;
    if (path.empty() || path.back() != '/')
        path += '/';
    return path + std::string(kPrefix) + guestName;
}

std::optional<StubSpec> XlConfigReader::load(const std::string& guestName) {
    const std::string path = pathFor(guestName);
    const std::optional<std::string> text = readTextFile(path);
    if (!text)
        return std::nullopt;
    return parse(*text, path, guestName);
}

StubSpec XlConfigReader::readFile(const std::string& path, const std::string& guestName) {
    const std::optional<std::string> text = readTextFile(path);
    if (!text)
        throw Error(ErrorCode::InvalidConfig, "cannot read " + path + ": " + std::strerror(ENOENT));
    return parse(*text, path, guestName);
}

StubSpec XlConfigReader::parse(const std::string& text, const std::string& source,
                               const std::string& guestName) {
    return SpecReader(text, source, guestName).read();
}

} // namespace stubdomd
