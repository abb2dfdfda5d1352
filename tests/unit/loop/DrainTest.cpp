// drainNonBlocking on real pipes: each way a drain ends, and that a refusing reader or
// the read budget leaves the rest in the pipe for the next turn of the loop.
#include "loop/Drain.hpp"
#include "LoopTestSupport.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace stubdomd;

using stubdomd::test::Pipe;

TEST_CASE("drainNonBlocking reads all there is and stops when the pipe would block") {
    Pipe pipe;
    const std::string data(10000, 'x'); // more than one read's buffer
    pipe.put(data);
    std::string got;
    unsigned chunks = 0;
    const DrainEnd end = drainNonBlocking(pipe.read.get(), [&](const char* p, std::size_t n) {
        got.append(p, n);
        ++chunks;
        return true;
    });
    CHECK(end == DrainEnd::WouldBlock);
    CHECK(got == data);
    CHECK(chunks >= 3);
    // Nothing there: no call at all.
    CHECK(drainNonBlocking(pipe.read.get(), [&](const char*, std::size_t) {
              FAIL("called on an empty pipe");
              return true;
          }) == DrainEnd::WouldBlock);
}

TEST_CASE("drainNonBlocking hands over the last data, then says the writer is gone") {
    Pipe pipe;
    pipe.put("last words\n");
    pipe.write.reset();
    std::string got;
    CHECK(drainNonBlocking(pipe.read.get(), [&](const char* p, std::size_t n) {
              got.append(p, n);
              return true;
          }) == DrainEnd::Ended);
    CHECK(got == "last words\n");
}

TEST_CASE("drainNonBlocking: a bad fd ends the drain") {
    CHECK(drainNonBlocking(-1, [](const char*, std::size_t) { return true; }) == DrainEnd::Ended);
}

TEST_CASE("drainNonBlocking stops at once when the reader refuses, leaving the rest") {
    Pipe pipe;
    pipe.put(std::string(10000, 'y'));
    unsigned calls = 0;
    CHECK(drainNonBlocking(pipe.read.get(), [&](const char*, std::size_t) {
              ++calls;
              return false;
          }) == DrainEnd::Refused);
    CHECK(calls == 1);
    std::size_t rest = 0;
    drainNonBlocking(pipe.read.get(), [&](const char*, std::size_t n) {
        rest += n;
        return true;
    });
    CHECK(rest == 10000 - 4096);
}

TEST_CASE("drainNonBlocking reads at most maxReads times, and the rest waits") {
    Pipe pipe;
    pipe.put(std::string(3 * 4096, 'z'));
    std::size_t got = 0;
    auto count = [&](const char*, std::size_t n) {
        got += n;
        return true;
    };
    CHECK(drainNonBlocking(pipe.read.get(), count, 2) == DrainEnd::Budget);
    CHECK(got == 2 * 4096);
    CHECK(drainNonBlocking(pipe.read.get(), count, 2) == DrainEnd::WouldBlock);
    CHECK(got == 3 * 4096);
}
