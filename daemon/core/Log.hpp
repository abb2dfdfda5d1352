// Logging with the structured fields of DESIGN.md section 7. The core calls these;
// the sink (journal when JOURNAL_STREAM is set, stderr otherwise; a capture in tests)
// is installed by main() through setLogSink().
#pragma once

#include "Types.hpp"

#include <functional>
#include <optional>
#include <string>

namespace stubdomd {

enum class LogLevel { Debug, Info, Notice, Warning, Error };

struct LogFields {
    std::string guestName;           // GUEST_NAME=
    std::optional<DomId> guestDomid; // GUEST_DOMID=
    std::optional<DomId> stubDomid;  // STUBDOM_DOMID=
    std::string helper;              // HELPER=
};

using LogSink = std::function<void(LogLevel, const LogFields&, const std::string& message)>;

// Replaces the sink; returns the previous one (tests restore it).
LogSink setLogSink(LogSink sink);
void log(LogLevel level, const LogFields& fields, const std::string& message);

inline void logInfo(const LogFields& f, const std::string& m) {
    log(LogLevel::Info, f, m);
}
inline void logWarning(const LogFields& f, const std::string& m) {
    log(LogLevel::Warning, f, m);
}
inline void logError(const LogFields& f, const std::string& m) {
    log(LogLevel::Error, f, m);
}
inline void logDebug(const LogFields& f, const std::string& m) {
    log(LogLevel::Debug, f, m);
}

} // namespace stubdomd
