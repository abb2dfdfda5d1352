// An xl config parsed by libxlutil, the parser of xl itself, so that syntax and error
// messages ("file:line: ...") are exactly xl's. Shared by the readers of stub-domain
// configs (XlConfigReader) and of PV guests' configs (PvGrubConfigReader).
#pragma once

// libxlutil.h has no extern "C" block of its own.
extern "C" {
#include <libxlutil.h>
}

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stubdomd {

// libxlutil writes its messages to a FILE*; an in-memory one lets us put them in the
// exception instead of on the daemon's stderr.
class ReportStream {
public:
    ReportStream();
    ~ReportStream();
    ReportStream(const ReportStream&) = delete;
    ReportStream& operator=(const ReportStream&) = delete;

    FILE* file() const { return file_; }
    // Everything written since byte `from`.
    std::string text(std::size_t from = 0);
    std::size_t size();

private:
    char* buffer_ = nullptr;
    std::size_t size_ = 0;
    FILE* file_;
};

// libxlutil's report lines, made one line for a reason string: "a; b".
std::string oneLine(std::string text);

// The keys assigned in an xl config and the line of the last assignment of each (the
// one xl uses), for messages that point at a line.
std::map<std::string, int> assignedKeys(const std::string& text);

// libxlutil 4.17's lexer assert()s, aborting the whole daemon, on a NUL byte inside a
// quoted string; an xl config is text, so every reader refuses one first:
// Error(InvalidConfig, "<source>:<line>: a NUL byte; an xl config is text").
void refuseNulBytes(const std::string& text, const std::string& source);

class XluConfig {
public:
    // Parses `text` as if it were the file `source`. Throws Error(InvalidConfig) with
    // libxlutil's message when the syntax is wrong.
    XluConfig(const std::string& text, std::string source);
    XluConfig(const XluConfig&) = delete;
    XluConfig& operator=(const XluConfig&) = delete;

    XLU_Config* get() const { return config_.get(); }
    ReportStream& report() { return report_; }
    const std::string& source() const { return source_; }
    const std::map<std::string, int>& keys() const { return keys_; }

    // "<source>:<line>" of the key's last assignment, or "<source>" when not assigned.
    std::string where(const std::string& key) const;
    // Throws Error(InvalidConfig, "<where(key)>: <what>").
    [[noreturn]] void fail(const std::string& key, const std::string& what) const;

    // nullopt when the key is not set; a list where a string belongs fails.
    std::optional<std::string> string(const char* key) const;
    // Empty when the key is not set; a string where a list belongs fails, and so does
    // a list entry that is not a string.
    std::vector<std::string> list(const char* key) const;

private:
    struct Deleter {
        void operator()(XLU_Config* config) const { xlu_cfg_destroy(config); }
    };
    std::string source_;
    ReportStream report_; // declared before config_: it must outlive it
    std::unique_ptr<XLU_Config, Deleter> config_;
    std::map<std::string, int> keys_;
};

} // namespace stubdomd
