#include "xen/XlToolstack.hpp"
#include "../config/TempDir.hpp"
#include "../loop/LoopTestSupport.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace stubdomd;
using namespace std::chrono_literals;
using stubdomd::test::runWithin;

namespace {

// A stand-in for xl: it records its arguments and, under a mkdir lock, how many of
// its instances run at once (`running`) and the most there ever were (`max`).
const char* const fakeXl = R"(#!/bin/sh
dir=$(dirname "$0")
lock() { while ! mkdir "$dir/lock" 2>/dev/null; do sleep 0.01; done; }
unlock() { rmdir "$dir/lock"; }
lock
n=$(( $(cat "$dir/running") + 1 ))
echo $n > "$dir/running"
[ $n -gt $(cat "$dir/max") ] && echo $n > "$dir/max"
echo "$*" >> "$dir/calls"
unlock
sleep $(cat "$dir/sleep")
lock
echo $(( $(cat "$dir/running") - 1 )) > "$dir/running"
unlock
case "$1" in
  domid) echo 42 ;;
  create) if [ -e "$dir/fail" ]; then echo "Parsing config from $3: syntax error" >&2; exit 1; fi ;;
esac
exit 0
)";

class FakeXl {
public:
    explicit FakeXl(const std::string& sleep = "0.2") {
        put("xl", fakeXl);
        REQUIRE(chmod(path().c_str(), 0755) == 0);
        put("running", "0\n");
        put("max", "0\n");
        put("calls", "");
        put("sleep", sleep + "\n");
    }

    std::string path() const { return dir_.path() + "/xl"; }
    void put(const std::string& name, const std::string& content) const {
        dir_.write(name, content);
    }
    std::string get(const std::string& name) const {
        std::ifstream in(dir_.path() + "/" + name);
        std::stringstream content;
        content << in.rdbuf();
        return content.str();
    }
    int maxConcurrent() const { return std::stoi(get("max")); }

private:
    test::TempDir dir_;
};

} // namespace

TEST_CASE("each call runs xl with the command line of real xl", "[xl]") {
    FakeXl xl("0");
    EventLoop loop;
    XlToolstack toolstack(loop, xl.path(), 20s, 1);
    std::vector<ToolResult> results;
    auto collect = [&](const ToolResult& r) {
        results.push_back(r);
        if (results.size() == 5)
            loop.stop();
    };
    toolstack.create("/run/stubdomd/g-dm.cfg", true, collect);
    toolstack.create("/run/stubdomd/g-dm.cfg", false, collect);
    toolstack.domid("g-dm", collect);
    toolstack.unpause(5, collect);
    toolstack.destroy(6, collect);
    REQUIRE(runWithin(loop, 30s));
    CHECK(xl.get("calls") == "create -p /run/stubdomd/g-dm.cfg\n"
                             "create /run/stubdomd/g-dm.cfg\n"
                             "domid g-dm\n"
                             "unpause 5\n"
                             "destroy 6\n");
    REQUIRE(results.size() == 5);
    CHECK(results[2].output == "42\n");
    for (const auto& r : results)
        CHECK(r.ok());
}

TEST_CASE("no more than maxParallel commands run at once; the rest queue", "[xl]") {
    FakeXl xl("0.2");
    EventLoop loop;
    XlToolstack toolstack(loop, xl.path(), 30s, 3);
    constexpr int count = 12;
    int done = 0;
    unsigned mostRunning = 0;
    for (int i = 0; i < count; ++i)
        toolstack.create("/cfg/" + std::to_string(i), true, [&](const ToolResult& r) {
            CHECK(r.ok());
            mostRunning = std::max(mostRunning, toolstack.running());
            if (++done == count)
                loop.stop();
        });
    CHECK(toolstack.running() == 3);
    CHECK(toolstack.queued() == count - 3);
    REQUIRE(runWithin(loop, 60s));
    CHECK(done == count);
    CHECK(toolstack.running() == 0);
    CHECK(toolstack.queued() == 0);
    CHECK(mostRunning <= 3);
    CHECK(xl.maxConcurrent() <= 3);
    CHECK(xl.maxConcurrent() >= 1);
}

TEST_CASE("queued commands start in the order they were asked for", "[xl]") {
    FakeXl xl("0");
    EventLoop loop;
    XlToolstack toolstack(loop, xl.path(), 20s, 1);
    std::vector<int> finished;
    for (int i = 0; i < 6; ++i)
        toolstack.destroy(static_cast<DomId>(i), [&, i](const ToolResult&) {
            finished.push_back(i);
            if (finished.size() == 6)
                loop.stop();
        });
    REQUIRE(runWithin(loop, 30s));
    CHECK(finished == std::vector<int>{0, 1, 2, 3, 4, 5});
    CHECK(xl.get("calls") == "destroy 0\ndestroy 1\ndestroy 2\ndestroy 3\ndestroy 4\ndestroy 5\n");
}

TEST_CASE("xl's stderr and exit status come back for the guest's reason", "[xl]") {
    FakeXl xl("0");
    xl.put("fail", "");
    EventLoop loop;
    XlToolstack toolstack(loop, xl.path(), 20s, 2);
    std::optional<ToolResult> result;
    toolstack.create("/cfg/bad", true, [&](const ToolResult& r) {
        result = r;
        loop.stop();
    });
    REQUIRE(runWithin(loop, 30s));
    REQUIRE(result);
    CHECK(result->exitStatus == 1);
    CHECK(result->errors == "Parsing config from /cfg/bad: syntax error\n");
}

TEST_CASE("a missing toolstack fails each command with 127 and frees its slot", "[xl]") {
    EventLoop loop;
    XlToolstack toolstack(loop, "/nonexistent/sbin/xl", 20s, 1);
    std::vector<ToolResult> results;
    for (int i = 0; i < 3; ++i)
        toolstack.unpause(1, [&](const ToolResult& r) {
            results.push_back(r);
            if (results.size() == 3)
                loop.stop();
        });
    REQUIRE(runWithin(loop, 30s));
    REQUIRE(results.size() == 3);
    for (const auto& r : results) {
        CHECK(r.exitStatus == 127);
        CHECK(r.errors == "cannot run /nonexistent/sbin/xl: No such file or directory");
    }
    CHECK(toolstack.running() == 0);
}

TEST_CASE("the settings give the command, its timeout and the bound", "[xl]") {
    FakeXl xl("30");
    // exec, so that the timeout's SIGKILL reaches the sleeping process itself.
    xl.put("xl", "#!/bin/sh\nexec sleep 30\n");
    Settings settings;
    settings.toolstack = xl.path();
    settings.toolstackTimeout = 300ms;
    settings.maxParallelSpawns = 2;
    EventLoop loop;
    XlToolstack toolstack(loop, settings);
    CHECK(toolstack.command() == xl.path());
    std::vector<int> statuses;
    for (int i = 0; i < 3; ++i)
        toolstack.destroy(9, [&](const ToolResult& r) {
            statuses.push_back(r.exitStatus);
            if (statuses.size() == 3)
                loop.stop();
        });
    CHECK(toolstack.running() == 2);
    REQUIRE(runWithin(loop, 30s));
    CHECK(statuses == std::vector<int>{137, 137, 137});
    CHECK((waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD));
}
