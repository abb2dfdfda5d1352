// raiseOpenFileLimit: a soft limit below the hard one is raised to it; one already at it
// is left alone. Each case runs in a forked child: the limits are the process's own.
#include "host/OpenFileLimit.hpp"

#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace stubdomd;

namespace {

// Runs `check` in a child with the given soft limit (hard: the test's own); its exit
// status: 0 when every expectation held, else the number of the one that failed.
template <typename Check> int inChildWithSoftLimit(rlim_t soft, Check check) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        rlimit limit{};
        ::getrlimit(RLIMIT_NOFILE, &limit);
        limit.rlim_cur = soft;
        if (::setrlimit(RLIMIT_NOFILE, &limit) < 0)
            ::_exit(100);
        ::_exit(check(limit.rlim_max));
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

} // namespace

TEST_CASE("a soft open-file limit below the hard one is raised to it", "[rlimit]") {
    rlimit mine{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &mine) == 0);
    REQUIRE(mine.rlim_max > 64);
    CHECK(inChildWithSoftLimit(64, [](rlim_t hard) {
              const OpenFileLimit files = raiseOpenFileLimit();
              rlimit now{};
              ::getrlimit(RLIMIT_NOFILE, &now);
              if (files.error != 0)
                  return 1;
              if (files.before != 64)
                  return 2;
              if (files.soft != hard || files.hard != hard)
                  return 3;
              return now.rlim_cur == hard ? 0 : 4;
          }) == 0);
}

TEST_CASE("a soft open-file limit already at the hard one is left as it is", "[rlimit]") {
    rlimit mine{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &mine) == 0);
    CHECK(inChildWithSoftLimit(mine.rlim_max, [](rlim_t hard) {
              const OpenFileLimit files = raiseOpenFileLimit();
              if (files.error != 0)
                  return 1;
              return files.before == hard && files.soft == hard ? 0 : 2;
          }) == 0);
}
