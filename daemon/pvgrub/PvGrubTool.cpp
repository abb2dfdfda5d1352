#include "pvgrub/PvGrubTool.hpp"

#include "core/Errors.hpp"
#include "host/TextFile.hpp"
#include "pvgrub/CallerFile.hpp"
#include "pvgrub/KernelImage.hpp"
#include "pvgrub/ThrowawayProcess.hpp"
#include "xen/PvGrubConfigReader.hpp"

#include <optional>
#include <string>

namespace stubdomd {

namespace {

// The parsed config crosses from the throwaway process as netstrings ("5:hello,"): any
// byte may be in a value, and xl configs need not be UTF-8 (so not JSON).
void putString(std::string& out, const std::string& value) {
    out += std::to_string(value.size()) + ':' + value + ',';
}

void putOptional(std::string& out, const std::optional<std::string>& value) {
    out += value ? '+' : '-';
    if (value)
        putString(out, *value);
}

class Netstrings {
public:
    explicit Netstrings(const std::string& data) : data_(data) {}

    std::string string() {
        const auto colon = data_.find(':', pos_);
        if (colon == std::string::npos || colon == pos_ || colon - pos_ > 10)
            malformed();
        const std::size_t size = std::stoul(data_.substr(pos_, colon - pos_));
        if (size > data_.size() - colon - 1 || data_.size() - colon - 1 - size < 1 ||
            data_[colon + 1 + size] != ',')
            malformed();
        pos_ = colon + 2 + size;
        return data_.substr(colon + 1, size);
    }
    std::optional<std::string> optional() {
        if (pos_ >= data_.size() || (data_[pos_] != '+' && data_[pos_] != '-'))
            malformed();
        return data_[pos_++] == '+' ? std::optional<std::string>(string()) : std::nullopt;
    }
    bool atEnd() const { return pos_ == data_.size(); }

private:
    [[noreturn]] static void malformed() {
        throw Error(ErrorCode::Internal, "the PV config parser's process answered malformed data");
    }
    const std::string& data_;
    std::size_t pos_ = 0;
};

// A caller's config is parsed in a throwaway process (ThrowawayProcess.hpp says why).
pvgrub::PvGuestConfig parseApart(const std::string& text, const std::string& path) {
    const std::string answer = pvgrub::runInThrowawayProcess("parsing " + path, [&] {
        const auto config = parsePvGuestConfig(text, path);
        std::string out;
        putString(out, config.name);
        putString(out, config.type);
        for (const auto* value :
             {&config.kernel, &config.bootloader, &config.cmdline, &config.root, &config.extra})
            putOptional(out, *value);
        for (const auto& [key, line] : config.lines) {
            putString(out, key);
            putString(out, std::to_string(line));
        }
        return out;
    });
    Netstrings in(answer);
    pvgrub::PvGuestConfig config;
    config.source = path;
    config.name = in.string();
    config.type = in.string();
    for (auto* value :
         {&config.kernel, &config.bootloader, &config.cmdline, &config.root, &config.extra})
        *value = in.optional();
    while (!in.atEnd()) {
        std::string key = in.string();
        config.lines[key] = std::stoi(in.string());
    }
    return config;
}

} // namespace

// The rules are cheap to make: one per call, reading files with the caller's rights.
pvgrub::ConfigResult PvGrubTool::config(const pvgrub::ConfigRequest& request, bool callerIsRoot) {
    pvgrub::KernelFileAccess files(callerIsRoot);
    return pvgrub::Rules(dirs_, files).config(request);
}

pvgrub::CheckReport PvGrubTool::check(const std::string& path, bool callerIsRoot) {
    std::string text = pvgrub::CallerFile(path, callerIsRoot).readAll(kMaxConfigFileSize);
    pvgrub::KernelFileAccess files(callerIsRoot);
    return pvgrub::Rules(dirs_, files).check(parseApart(text, path));
}

} // namespace stubdomd
