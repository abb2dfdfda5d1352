#include "xen/XlConfigReader.hpp"

#include "config/TextFile.hpp"
#include "core/Errors.hpp"
#include "core/Log.hpp"

// libxlutil.h has no extern "C" block of its own.
extern "C" {
#include <libxlutil.h>
}

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

namespace stubdomd {

namespace {

constexpr std::string_view kPrefix = "stubdom-";
constexpr std::string_view kKnownKeys[] = {"kernel", "ramdisk", "memory", "vif",
                                           "disk",   "vfb",     "flavour"};

// libxlutil writes its messages to a FILE*; an in-memory one lets us put them in the
// exception instead of on the daemon's stderr.
class ReportStream {
public:
    ReportStream() : file_(::open_memstream(&buffer_, &size_)) {
        if (!file_)
            throw Error(ErrorCode::Internal,
                        std::string("open_memstream: ") + std::strerror(errno));
    }
    ~ReportStream() {
        std::fclose(file_);
        std::free(buffer_); // allocated by open_memstream
    }
    ReportStream(const ReportStream&) = delete;
    ReportStream& operator=(const ReportStream&) = delete;

    FILE* file() const { return file_; }

    // Everything written since byte `from`.
    std::string text(std::size_t from = 0) {
        std::fflush(file_);
        return from < size_ ? std::string(buffer_ + from, size_ - from) : std::string();
    }
    std::size_t size() {
        std::fflush(file_);
        return size_;
    }

private:
    char* buffer_ = nullptr;
    std::size_t size_ = 0;
    FILE* file_;
};

struct ConfigDeleter {
    void operator()(XLU_Config* config) const { xlu_cfg_destroy(config); }
};
using ConfigPtr = std::unique_ptr<XLU_Config, ConfigDeleter>;

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

// libxlutil's report lines, made one line for a reason string: "a; b".
std::string oneLine(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    std::string out;
    for (const char c : text) {
        if (c == '\n')
            out += "; ";
        else
            out += c;
    }
    return out;
}

// The keys assigned in an xl config and the line of the last assignment of each (the
// one xl uses). libxlutil has no API to list keys, so this follows its lexer
// (tools/libs/util/libxlu_cfg_l.l): comments run from '#' to the end of the line, strings
// are '...' or "..." with backslash escapes and no newline, numbers are [0-9][0-9a-fx]*
// and identifiers [a-z][._0-9a-z]*. It runs only on text libxlutil has accepted, where
// the grammar allows an identifier only as the key of an assignment.
std::map<std::string, int> assignedKeys(const std::string& text) {
    std::map<std::string, int> keys;
    int line = 1;
    std::size_t i = 0;
    auto isIdentChar = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
    };
    while (i < text.size()) {
        const char c = text[i];
        if (c == '\n') {
            ++line;
            ++i;
        } else if (c == '#') {
            while (i < text.size() && text[i] != '\n')
                ++i;
        } else if (c == '\'' || c == '"') {
            ++i;
            while (i < text.size() && text[i] != c && text[i] != '\n') {
                if (text[i] == '\\' && i + 1 < text.size())
                    ++i;
                ++i;
            }
            ++i;
        } else if (c >= '0' && c <= '9') {
            while (i < text.size() && isIdentChar(text[i]))
                ++i; // [0-9a-fx]*: a subset, so nothing after it starts an identifier
        } else if (c >= 'a' && c <= 'z') {
            const std::size_t start = i;
            while (i < text.size() && isIdentChar(text[i]))
                ++i;
            keys[text.substr(start, i - start)] = line;
        } else {
            ++i;
        }
    }
    return keys;
}

class SpecReader {
public:
    SpecReader(const std::string& text, const std::string& source, const std::string& guestName)
        : text_(text), source_(source), guestName_(guestName) {}

    StubSpec read() {
        if (text_.size() > static_cast<std::size_t>(INT_MAX))
            fail("", "the file is too large");
        config_.reset(xlu_cfg_init(report_.file(), source_.c_str()));
        if (!config_)
            throw Error(ErrorCode::Internal, "xlu_cfg_init: out of memory");
        const int error =
            xlu_cfg_readdata(config_.get(), text_.data(), static_cast<int>(text_.size()));
        if (error) {
            std::string message = oneLine(report_.text());
            if (message.empty())
                message = source_ + ": " + std::strerror(error);
            throw Error(ErrorCode::InvalidConfig, message);
        }
        keys_ = assignedKeys(text_);
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
        std::string where = source_;
        const auto found = keys_.find(key);
        if (found != keys_.end())
            where += ":" + std::to_string(found->second);
        throw Error(ErrorCode::InvalidConfig, where + ": " + what);
    }

    void warnUnknownKeys() const {
        LogFields fields;
        fields.guestName = guestName_;
        for (const auto& [key, line] : keys_) {
            if (std::find(std::begin(kKnownKeys), std::end(kKnownKeys), key) !=
                std::end(kKnownKeys))
                continue;
            logWarning(fields, source_ + ":" + std::to_string(line) + ": unknown key '" + key +
                                   "' ignored (stubdomd reads only kernel, ramdisk, memory, "
                                   "vif, disk, vfb and flavour)");
        }
    }

    std::optional<std::string> string(const char* key) const {
        const char* value = nullptr;
        const int error = xlu_cfg_get_string(config_.get(), key, &value, 1);
        if (error == ESRCH)
            return std::nullopt;
        if (error)
            fail(key, "'" + std::string(key) + "' must be a string, got a list");
        if (!*value)
            fail(key, "'" + std::string(key) + "' must not be empty");
        return std::string(value);
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

    std::vector<std::string> list(const char* key) const {
        XLU_ConfigList* items = nullptr;
        int count = 0;
        const int error = xlu_cfg_get_list(config_.get(), key, &items, &count, 1);
        if (error == ESRCH)
            return {};
        if (error)
            fail(key, "'" + std::string(key) + "' must be a list, e.g. " + key + " = [ '...' ]");
        std::vector<std::string> result;
        for (int i = 0; i < count; ++i) {
            const char* item = xlu_cfg_get_listitem(items, i);
            if (!item)
                fail(key, "'" + std::string(key) + "' entry " + std::to_string(i + 1) +
                              " must be a string, got a list");
            result.emplace_back(item);
        }
        return result;
    }

    // The same check xl makes when it creates the domain, done now so that a bad disk
    // line fails the guest with the file's name instead of failing `xl create` later.
    void checkDisks(const std::vector<std::string>& disks) {
        for (std::size_t i = 0; i < disks.size(); ++i) {
            Disk disk;
            const char* spec = disks[i].c_str();
            const std::size_t before = report_.size();
            if (xlu_disk_parse(config_.get(), 1, &spec, disk.get()) == 0)
                continue;
            std::string why = oneLine(report_.text(before));
            const std::string prefix = source_ + ": ";
            if (why.compare(0, prefix.size(), prefix) == 0)
                why.erase(0, prefix.size());
            if (why.empty())
                why = "not a valid disk specification";
            fail("disk", "bad disk entry " + std::to_string(i + 1) + " '" + disks[i] + "': " + why);
        }
    }

    const std::string& text_;
    const std::string& source_;
    const std::string& guestName_;
    ReportStream report_; // declared before config_: it must outlive it
    ConfigPtr config_;
    std::map<std::string, int> keys_;
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
