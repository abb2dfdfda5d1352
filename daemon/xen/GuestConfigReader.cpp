#include "xen/GuestConfigReader.hpp"

#include "config/TextFile.hpp"
#include "core/Errors.hpp"
#include "xen/XlConfigReader.hpp"
#include "xen/XluConfig.hpp"

// libxlutil.h has no extern "C" block of its own.
extern "C" {
#include <libxlutil.h>
}

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace stubdomd {

namespace {

constexpr const char* kKeys[] = {"vnc",       "sdl",       "vnclisten", "vncdisplay",
                                 "vncunused", "vncpasswd", "keymap",    "videoram"};

// libxlutil reports to a FILE*; keep its words for the exception.
struct Report {
    char* buffer = nullptr;
    std::size_t size = 0;
    FILE* file = ::open_memstream(&buffer, &size);
    Report() {
        if (!file)
            throw Error(ErrorCode::Internal,
                        std::string("open_memstream: ") + std::strerror(errno));
    }
    ~Report() {
        std::fclose(file);
        std::free(buffer);
    }
    Report(const Report&) = delete;
    Report& operator=(const Report&) = delete;
    std::string text() {
        std::fflush(file);
        std::string out(buffer ? buffer : "", size);
        while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
            out.pop_back();
        for (auto& c : out)
            if (c == '\n')
                c = ' ';
        return out;
    }
};

struct ConfigDeleter {
    void operator()(XLU_Config* config) const { xlu_cfg_destroy(config); }
};

// The line of a key's last assignment, for messages: a line that starts with the key
// followed by '='. (Inside a string or a comment it would not be, but a config xl
// accepted has its assignments at the start of lines.)
int lineOf(const std::string& text, const std::string& key) {
    int line = 1, found = 0;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t end = text.find('\n', pos);
        std::string row =
            text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        std::size_t i = row.find_first_not_of(" \t");
        if (i != std::string::npos && row.compare(i, key.size(), key) == 0) {
            std::size_t j = row.find_first_not_of(" \t", i + key.size());
            if (j != std::string::npos && row[j] == '=')
                found = line;
        }
        if (end == std::string::npos)
            break;
        pos = end + 1;
        ++line;
    }
    return found;
}

class Reader {
public:
    Reader(const std::string& text, const std::string& source) : text_(text) {
        out_.source = source;
    }

    GuestDisplayConfig read() {
        if (text_.size() > static_cast<std::size_t>(INT_MAX))
            throw Error(ErrorCode::InvalidConfig, out_.source + ": the file is too large");
        refuseNulBytes(text_, out_.source);
        config_.reset(xlu_cfg_init(report_.file, out_.source.c_str()));
        if (!config_)
            throw Error(ErrorCode::Internal, "xlu_cfg_init: out of memory");
        if (int error =
                xlu_cfg_readdata(config_.get(), text_.data(), static_cast<int>(text_.size()))) {
            std::string message = report_.text();
            throw Error(ErrorCode::InvalidConfig,
                        message.empty() ? out_.source + ": " + std::strerror(error) : message);
        }
        for (const char* key : kKeys)
            if (int line = lineOf(text_, key))
                out_.lines[key] = line;
        out_.vnc = flag("vnc");
        out_.sdl = flag("sdl");
        out_.vncunused = flag("vncunused");
        out_.vnclisten = string("vnclisten");
        out_.vncpasswd = string("vncpasswd");
        out_.keymap = string("keymap");
        out_.vncdisplay = number("vncdisplay");
        out_.videoramMiB = number("videoram");
        return out_;
    }

private:
    [[noreturn]] void fail(const std::string& key, const std::string& what) const {
        throw Error(ErrorCode::InvalidConfig, out_.where(key) + ": " + what);
    }

    std::optional<std::string> string(const char* key) const {
        const char* value = nullptr;
        int error = xlu_cfg_get_string(config_.get(), key, &value, 1);
        if (error == ESRCH)
            return std::nullopt;
        if (error)
            fail(key, "'" + std::string(key) + "' must be a string");
        return std::string(value);
    }

    std::optional<unsigned> number(const char* key) const {
        if (!string(key))
            return std::nullopt;
        long value = 0;
        if (xlu_cfg_get_long(config_.get(), key, &value, 1) || value < 0 || value > 65535)
            fail(key, "'" + std::string(key) + "' must be a number, got \"" + *string(key) + "\"");
        return static_cast<unsigned>(value);
    }

    std::optional<bool> flag(const char* key) const {
        auto value = number(key);
        if (!value)
            return std::nullopt;
        return *value != 0;
    }

    const std::string& text_;
    GuestDisplayConfig out_;
    Report report_; // before config_: it must outlive it
    std::unique_ptr<XLU_Config, ConfigDeleter> config_;
};

} // namespace

GuestConfigReader::GuestConfigReader(std::string xenConfigDir) : dir_(std::move(xenConfigDir)) {}

std::optional<GuestDisplayConfig> GuestConfigReader::load(const std::string& guestName) const {
    if (!isValidGuestName(guestName))
        return std::nullopt; // XlConfigReader has already refused such a name
    std::string base = dir_;
    if (base.empty() || base.back() != '/')
        base += '/';
    for (const std::string& path : {base + guestName, base + guestName + ".cfg"})
        if (auto text = readTextFile(path))
            return parse(*text, path);
    return std::nullopt;
}

GuestDisplayConfig GuestConfigReader::parse(const std::string& text, const std::string& source) {
    return Reader(text, source).read();
}

} // namespace stubdomd
