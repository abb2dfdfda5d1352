// A guest config file read with libxlutil, the parser real xl uses, so its syntax and
// its "FILE:LINE: ..." error messages are exactly xl's.
#pragma once

#include <optional>
#include <string>
#include <vector>

struct XLU_Config;

namespace xensim {

class XlConfig {
public:
    // Reads file, then the command line's "key=value" settings appended as xl does.
    // On failure prints xl's messages and throws XlError.
    XlConfig(const std::string& file, const std::vector<std::string>& extra);
    ~XlConfig();
    XlConfig(const XlConfig&) = delete;
    XlConfig& operator=(const XlConfig&) = delete;

    std::optional<std::string> string(const char* key) const;
    std::optional<long> number(const char* key) const;
    // A list of strings. A single string is a one-item list only where xl accepts one
    // (serial, usbdevice); elsewhere libxlutil warns about it, as for xl.
    std::optional<std::vector<std::string>> list(const char* key, bool singleOk = false) const;
    // xl's booleans are numbers (vnc = 1).
    bool flag(const char* key, bool dflt) const;

    XLU_Config* raw() const { return cfg_; }

private:
    XLU_Config* cfg_;
};

} // namespace xensim
