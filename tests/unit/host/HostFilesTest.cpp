// The dom0 file primitives: directories made with their parents, files replaced whole with
// their mode from the start, small text files read with "missing" told apart from "bad".
#include "host/HostFiles.hpp"
#include "host/TextFile.hpp"

#include "config/TempDir.hpp"
#include "core/Errors.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

using namespace stubdomd;
using stubdomd::test::TempDir;

namespace {

unsigned modeOf(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

std::string contentOf(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace

TEST_CASE("ensureDirectory makes the parents and gives the last one its mode", "[host]") {
    TempDir dir;
    const std::string leaf = dir.path() + "/a/b/c";
    ensureDirectory(leaf, 0700);
    CHECK(modeOf(dir.path() + "/a") == 0755);
    CHECK(modeOf(leaf) == 0700);
    // Existing directories are fine.
    CHECK_NOTHROW(ensureDirectory(leaf, 0700));
}

TEST_CASE("ensureDirectory names the path it could not make", "[host]") {
    TempDir dir;
    const std::string file = dir.write("plain", "x");
    try {
        ensureDirectory(file + "/sub", 0755);
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::Internal);
        CHECK_THAT(e.what(), Catch::Contains(file + "/sub"));
    }
}

TEST_CASE("writeFileAtomically replaces the file whole, with its mode despite the umask",
          "[host]") {
    TempDir dir;
    const std::string path = dir.path() + "/secret";
    const mode_t old = ::umask(0);
    writeFileAtomically(path, "first\n", 0600);
    ::umask(old);
    CHECK(modeOf(path) == 0600);
    const std::string big(1 << 20, 'x');
    writeFileAtomically(path, big, 0600);
    CHECK(contentOf(path) == big);
    CHECK(::access((path + ".tmp").c_str(), F_OK) != 0);
}

TEST_CASE("writeFileAtomically names the file it could not write", "[host]") {
    TempDir dir;
    try {
        writeFileAtomically(dir.path() + "/missing/file", "x", 0644);
        FAIL("no error");
    } catch (const Error& e) {
        CHECK_THAT(e.what(), Catch::Contains(dir.path() + "/missing/file.tmp"));
    }
}

TEST_CASE("processName reads /proc/<pid>/comm, empty for no such process", "[host]") {
    std::ifstream comm("/proc/self/comm");
    std::string self;
    std::getline(comm, self);
    CHECK(processName(::getpid()) == self);
    CHECK(processName(0).empty());
    CHECK(processName(-1).empty());
}

TEST_CASE("readTextFile: the content, nullopt when missing, an error naming the path", "[host]") {
    TempDir dir;
    CHECK(readTextFile(dir.write("f", "hello\n")) == std::optional<std::string>("hello\n"));
    CHECK_FALSE(readTextFile(dir.path() + "/none"));
    try {
        readTextFile(dir.path());
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::InvalidConfig);
        CHECK_THAT(e.what(), Catch::Contains(dir.path()) && Catch::Contains("not a regular file"));
    }
    try {
        readTextFile(dir.write("big", std::string(100, 'x')), 10);
        FAIL("no error");
    } catch (const Error& e) {
        CHECK_THAT(e.what(), Catch::Contains("larger than 10 bytes"));
    }
}

TEST_CASE("readBounded: what the descriptor reads, refused once it passes the bound", "[host]") {
    // A pipe has no size to check first: only the loop's own bound stops it, as for a
    // file that grows after its size was checked.
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    REQUIRE(::write(fds[1], "0123456789", 10) == 10);
    ::close(fds[1]);
    CHECK(readBounded(fds[0], 10, "/p") == "0123456789"); // exactly the bound is fine
    ::close(fds[0]);

    REQUIRE(::pipe(fds) == 0);
    REQUIRE(::write(fds[1], "0123456789x", 11) == 11);
    ::close(fds[1]);
    try {
        readBounded(fds[0], 10, "/named/by/caller");
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::InvalidConfig);
        CHECK_THAT(e.what(), Catch::Contains("cannot read /named/by/caller") &&
                                 Catch::Contains("larger than 10 bytes"));
    }
    ::close(fds[0]);

    try {
        readBounded(-1, 10, "/closed");
        FAIL("no error");
    } catch (const Error& e) {
        CHECK_THAT(e.what(), Catch::Contains("cannot read /closed: Bad file descriptor"));
    }
}
