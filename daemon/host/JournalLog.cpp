#include "host/JournalLog.hpp"

#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace stubdomd {

namespace {

int priority(LogLevel level) {
    switch (level) {
    case LogLevel::Debug:
        return 7;
    case LogLevel::Info:
        return 6;
    case LogLevel::Notice:
        return 5;
    case LogLevel::Warning:
        return 4;
    case LogLevel::Error:
        return 3;
    }
    return 6;
}

void sendToJournal(LogLevel level, const LogFields& f, const std::string& message) {
    std::vector<std::string> fields;
    fields.push_back("MESSAGE=" + message);
    fields.push_back("PRIORITY=" + std::to_string(priority(level)));
    fields.push_back("SYSLOG_IDENTIFIER=stubdomd");
    if (!f.guestName.empty())
        fields.push_back("GUEST_NAME=" + f.guestName);
    if (f.guestDomid)
        fields.push_back("GUEST_DOMID=" + std::to_string(*f.guestDomid));
    if (f.stubDomid)
        fields.push_back("STUBDOM_DOMID=" + std::to_string(*f.stubDomid));
    if (!f.helper.empty())
        fields.push_back("HELPER=" + f.helper);
    // sendv rather than the printf-style sd_journal_send: the set of fields varies and
    // a message may hold newlines (xl's stderr), which sendv carries intact.
    std::vector<iovec> iov;
    for (auto& field : fields)
        iov.push_back(iovec{field.data(), field.size()});
    if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) < 0)
        std::fprintf(stderr, "stubdomd: %s\n", message.c_str()); // journald is gone: keep the line
}

} // namespace

bool stderrIsJournal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (!stream || !*stream)
        return false;
    unsigned long long device = 0, inode = 0;
    if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2)
        return false;
    struct stat st;
    if (fstat(2, &st) < 0)
        return false;
    return static_cast<unsigned long long>(st.st_dev) == device &&
           static_cast<unsigned long long>(st.st_ino) == inode;
}

LogSink journalSink() {
    return sendToJournal;
}

bool installLogSink() {
    if (!stderrIsJournal())
        return false;
    setLogSink(journalSink());
    return true;
}

} // namespace stubdomd
