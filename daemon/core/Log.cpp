#include "core/Log.hpp"

#include <cstdio>
#include <utility>

namespace stubdomd {

namespace {

const char* levelName(LogLevel level) {
    switch (level) {
    case LogLevel::Debug:
        return "debug";
    case LogLevel::Info:
        return "info";
    case LogLevel::Notice:
        return "notice";
    case LogLevel::Warning:
        return "warning";
    case LogLevel::Error:
        return "error";
    }
    return "?";
}

// Until main() installs the real sink: plain lines on stderr, with the fields that
// say which guest a line is about.
void stderrSink(LogLevel level, const LogFields& f, const std::string& message) {
    std::string prefix;
    if (!f.guestName.empty())
        prefix += "guest " + f.guestName;
    if (f.guestDomid)
        prefix +=
            (prefix.empty() ? "" : " ") + std::string("domid ") + std::to_string(*f.guestDomid);
    if (f.stubDomid)
        prefix += (prefix.empty() ? "" : " ") + std::string("stub ") + std::to_string(*f.stubDomid);
    if (!f.helper.empty())
        prefix += (prefix.empty() ? "" : " ") + std::string("helper ") + f.helper;
    if (!prefix.empty())
        prefix = "[" + prefix + "] ";
    std::fprintf(stderr, "stubdomd: %s: %s%s\n", levelName(level), prefix.c_str(), message.c_str());
}

LogSink& sink() {
    static LogSink current = stderrSink;
    return current;
}

} // namespace

LogSink setLogSink(LogSink next) {
    return std::exchange(sink(), std::move(next));
}

void log(LogLevel level, const LogFields& fields, const std::string& message) {
    if (sink())
        sink()(level, fields, message);
}

} // namespace stubdomd
