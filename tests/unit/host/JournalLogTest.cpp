#include "host/JournalLog.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <optional>
#include <string>

using namespace stubdomd;

namespace {

// Sets JOURNAL_STREAM for one test and puts the old value back.
class JournalStreamEnv {
public:
    explicit JournalStreamEnv(const std::optional<std::string>& value) {
        if (const char* old = std::getenv("JOURNAL_STREAM"))
            saved_ = old;
        if (value)
            setenv("JOURNAL_STREAM", value->c_str(), 1);
        else
            unsetenv("JOURNAL_STREAM");
    }
    ~JournalStreamEnv() {
        if (saved_)
            setenv("JOURNAL_STREAM", saved_->c_str(), 1);
        else
            unsetenv("JOURNAL_STREAM");
    }
    JournalStreamEnv(const JournalStreamEnv&) = delete;
    JournalStreamEnv& operator=(const JournalStreamEnv&) = delete;

private:
    std::optional<std::string> saved_;
};

std::string stderrIdentity() {
    struct stat st;
    REQUIRE(fstat(2, &st) == 0);
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

} // namespace

TEST_CASE("without JOURNAL_STREAM the stderr lines stay", "[journal]") {
    JournalStreamEnv env(std::nullopt);
    CHECK_FALSE(stderrIsJournal());
    CHECK_FALSE(installLogSink());
}

TEST_CASE("JOURNAL_STREAM counts only when it names stderr", "[journal]") {
    {
        JournalStreamEnv env(std::string("1:1"));
        CHECK_FALSE(stderrIsJournal());
    }
    {
        JournalStreamEnv env(std::string("garbage"));
        CHECK_FALSE(stderrIsJournal());
    }
    {
        JournalStreamEnv env(stderrIdentity());
        CHECK(stderrIsJournal());
    }
}

TEST_CASE("the journal sink accepts every field and a multi-line message", "[journal]") {
    // Without a journald here the line falls back to stderr; either way no throw.
    LogFields fields{"hvmconfig", 7u, 8u, "fs-backend"};
    CHECK_NOTHROW(journalSink()(LogLevel::Warning, fields, "xl said:\nline two"));
}
