#include "XlConfig.h"

#include "XlError.h"

#define XENSIM_WANT_XLUTIL
#include "xen_cxx.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace xensim {

XlConfig::XlConfig(const std::string& file, const std::vector<std::string>& extra) : cfg_(nullptr) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        int e = errno;
        fail(kExitCreateFailed,
             "Failed to read config file: " + file + ": " + std::strerror(e ? e : ENOENT));
    }
    std::ostringstream data;
    data << in.rdbuf();
    std::string text = data.str();
    if (!extra.empty()) {
        text += "\n";
        for (const auto& kv : extra)
            text += kv + "\n";
    }
    cfg_ = xlu_cfg_init(stderr, file.c_str());
    if (!cfg_)
        fail(kExitFailure, std::string("xlu_cfg_init: ") + std::strerror(errno));
    int e = xlu_cfg_readdata(cfg_, text.data(), static_cast<int>(text.size()));
    if (e) {
        xlu_cfg_destroy(cfg_);
        cfg_ = nullptr;
        fail(kExitFailure, std::string("Failed to parse config: ") + std::strerror(e));
    }
}

XlConfig::~XlConfig() {
    if (cfg_)
        xlu_cfg_destroy(cfg_);
}

std::optional<std::string> XlConfig::string(const char* key) const {
    const char* v = nullptr;
    if (xlu_cfg_get_string(cfg_, key, &v, 0))
        return std::nullopt;
    return std::string(v);
}

std::optional<long> XlConfig::number(const char* key) const {
    long v = 0;
    if (xlu_cfg_get_long(cfg_, key, &v, 0))
        return std::nullopt;
    return v;
}

std::optional<std::vector<std::string>> XlConfig::list(const char* key, bool singleOk) const {
    XLU_ConfigList* l = nullptr;
    int n = 0;
    if (singleOk) {
        if (xlu_cfg_get_list(cfg_, key, &l, &n, 1)) {
            auto one = string(key);
            return one ? std::optional<std::vector<std::string>>({*one}) : std::nullopt;
        }
    } else if (xlu_cfg_get_list(cfg_, key, &l, &n, 0)) {
        return std::nullopt;
    }
    std::vector<std::string> out;
    for (int i = 0; i < n; i++) {
        const char* item = xlu_cfg_get_listitem(l, i);
        out.emplace_back(item ? item : "");
    }
    return out;
}

bool XlConfig::flag(const char* key, bool dflt) const {
    auto v = number(key);
    return v ? *v != 0 : dflt;
}

} // namespace xensim
