#include "xen/XlConfigReader.hpp"

#include "core/Errors.hpp"
#include "core/Log.hpp"
#include "core/MemorySize.hpp"
#include "core/StubFlavour.hpp"
#include "host/TextFile.hpp"
#include "xen/XluConfig.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <variant>
#include <vector>

namespace stubdomd {

namespace {

constexpr std::string_view kPrefix = "stubdom-";
constexpr std::string_view kKnownKeys[] = {"kernel",
                                           "ramdisk",
                                           "stubdomain_kernel",
                                           "stubdomain_ramdisk",
                                           "memory",
                                           "stubdomain_memory",
                                           "vif",
                                           "disk",
                                           "vfb",
                                           "flavour"};

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
    SpecReader(const std::string& text, const std::string& source, const std::string& guestName,
               Flavour defaultFlavour)
        : config_(text, source), source_(source), guestName_(guestName),
          defaultFlavour_(defaultFlavour) {}

    StubSpec read() {
        warnUnknownKeys();

        StubSpec spec;
        spec.sourceFile = source_;
        FlavourHints hints;
        hints.kernelKey = either("kernel", "stubdomain_kernel");
        hints.kernel = spec.kernel = string(hints.kernelKey.c_str());
        hints.ramdiskKey = either("ramdisk", "stubdomain_ramdisk");
        hints.ramdisk = spec.ramdisk = string(hints.ramdiskKey.c_str());
        const std::string memoryKey = either("memory", "stubdomain_memory");
        spec.memoryMiB = memory(memoryKey);
        spec.vifs = list("vif");
        spec.disks = list("disk");
        spec.diskDevices = parseDisks(spec.disks);
        spec.vfbs = list("vfb");
        if (const auto flavour = string("flavour")) {
            if (*flavour == "ioemu")
                hints.explicitFlavour = Flavour::Ioemu;
            else if (*flavour == "linux")
                hints.explicitFlavour = Flavour::Linux;
            else
                fail("flavour", "'flavour' must be 'ioemu' or 'linux', got \"" + *flavour + "\"");
        }
        const auto chosen = chooseFlavour(hints, defaultFlavour_);
        if (const auto* conflict = std::get_if<FlavourConflict>(&chosen))
            fail(conflict->key, conflict->message);
        spec.flavour = std::get<Flavour>(chosen);
        if (spec.memoryMiB && *spec.memoryMiB < minimumStubMemoryMiB(spec.flavour))
            fail(memoryKey, "'" + memoryKey + "' is " + std::to_string(*spec.memoryMiB) +
                                " MiB; the " + std::string(toString(spec.flavour)) +
                                " stub domain needs at least " +
                                std::to_string(minimumStubMemoryMiB(spec.flavour)) + " MiB");
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

    // A number is MiB, as xl's `memory`; a string may carry a unit (MemorySize.hpp).
    std::optional<std::uint64_t> memory(const std::string& key) const {
        const auto text = string(key.c_str());
        if (!text)
            return std::nullopt;
        const auto mib = parseMemoryMiB(*text);
        if (!mib)
            fail(key, "'" + key +
                          "' must be a size in MiB, plainly or with a unit (500, \"500M\", "
                          "\"512MiB\", \"1G\"), got \"" +
                          *text + "\"");
        return mib;
    }

    std::vector<std::string> list(const char* key) const { return config_.list(key); }

    // libxl's stub-domain keys (stubdomain_kernel, ...) are accepted beside the short ones
    // of the README's stub configs; one setting said twice is refused, not guessed at.
    std::string either(const std::string& shortKey, const std::string& libxlKey) const {
        const bool hasShort = config_.keys().count(shortKey) != 0;
        const bool hasLibxl = config_.keys().count(libxlKey) != 0;
        if (hasShort && hasLibxl)
            fail(libxlKey, "'" + libxlKey + "' and '" + shortKey + "' (" + config_.where(shortKey) +
                               ") say the same thing; keep one");
        return hasLibxl ? libxlKey : shortKey;
    }

    // The same check xl makes when it creates the domain, done now so that a bad disk
    // line fails the guest with the file's name instead of failing `xl create` later;
    // what it reads is what the Linux stub's qemu is told about each disk.
    std::vector<StubDisk> parseDisks(const std::vector<std::string>& disks) {
        std::vector<StubDisk> parsed;
        for (std::size_t i = 0; i < disks.size(); ++i) {
            Disk disk;
            const char* spec = disks[i].c_str();
            const std::size_t before = config_.report().size();
            if (xlu_disk_parse(config_.get(), 1, &spec, disk.get()) == 0) {
                const libxl_device_disk& d = *disk.get();
                parsed.push_back(StubDisk{d.vdev ? d.vdev : "", d.is_cdrom != 0, d.readwrite != 0,
                                          d.format == LIBXL_DISK_FORMAT_EMPTY});
                continue;
            }
            std::string why = oneLine(config_.report().text(before));
            const std::string prefix = source_ + ": ";
            if (why.compare(0, prefix.size(), prefix) == 0)
                why.erase(0, prefix.size());
            if (why.empty())
                why = "not a valid disk specification";
            fail("disk", "bad disk entry " + std::to_string(i + 1) + " '" + disks[i] + "': " + why);
        }
        return parsed;
    }

    XluConfig config_;
    const std::string& source_;
    const std::string& guestName_;
    Flavour defaultFlavour_;
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

XlConfigReader::XlConfigReader(std::string xenConfigDir, Flavour defaultFlavour)
    : dir_(std::move(xenConfigDir)), defaultFlavour_(defaultFlavour) {}

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
    return parse(*text, path, guestName, defaultFlavour_);
}

StubSpec XlConfigReader::readFile(const std::string& path, const std::string& guestName,
                                  Flavour defaultFlavour) {
    const std::optional<std::string> text = readTextFile(path);
    if (!text)
        throw Error(ErrorCode::InvalidConfig, "cannot read " + path + ": " + std::strerror(ENOENT));
    return parse(*text, path, guestName, defaultFlavour);
}

StubSpec XlConfigReader::parse(const std::string& text, const std::string& source,
                               const std::string& guestName, Flavour defaultFlavour) {
    return SpecReader(text, source, guestName, defaultFlavour).read();
}

} // namespace stubdomd
