// writeAll: a buffer larger than a pipe holds arrives whole; a write that fails is said.
#include "host/WriteAll.hpp"
#include "loop/UniqueFd.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <thread>

using namespace stubdomd;

TEST_CASE("writeAll writes a buffer larger than the pipe, through short writes", "[write]") {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    UniqueFd readEnd(fds[0]), writeEnd(fds[1]);
    std::string data(1 << 20, '\0');
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<char>(i * 31);
    std::string received;
    std::thread reader([&] {
        char buffer[4096];
        ssize_t n;
        while ((n = ::read(readEnd.get(), buffer, sizeof buffer)) > 0)
            received.append(buffer, static_cast<std::size_t>(n));
    });
    const bool written = writeAll(writeEnd.get(), data.data(), data.size());
    writeEnd.reset();
    reader.join();
    CHECK(written);
    CHECK(received == data);
}

TEST_CASE("writeAll says false, with errno, when the write fails", "[write]") {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    UniqueFd readEnd(fds[0]), writeEnd(fds[1]);
    readEnd.reset();
    const auto previous = ::signal(SIGPIPE, SIG_IGN);
    errno = 0;
    const bool written = writeAll(writeEnd.get(), "x", 1);
    const int err = errno;
    ::signal(SIGPIPE, previous);
    CHECK_FALSE(written);
    CHECK(err == EPIPE);
    CHECK(writeAll(writeEnd.get(), "", 0)); // nothing to write: nothing fails
}
