// VchanProxy and QmpMonitor on a real loop, with a stand-in proxy script: libxl's
// command line, restart after a death, kill and reap on close, the socket removed; and
// the monitor's answers parsed from a scripted QMP peer on the proxy's socket.
#include "LoopTestSupport.hpp"
#include "QmpPeer.hpp"
#include "qmp/QmpMonitor.hpp"
#include "qmp/VchanProxy.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

using namespace stubdomd;
using namespace stubdomd::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// A stand-in for vchan-socket-proxy: records its arguments (one line per start) and
// then does what `tail` says.
std::string writeScript(const std::string& dir, const std::string& tail) {
    const std::string path = dir + "/proxy";
    std::ofstream(path) << "#!/bin/sh\necho \"$@\" >> " << dir << "/starts\n" << tail << "\n";
    ::chmod(path.c_str(), 0755);
    return path;
}

std::vector<std::string> startsOf(const std::string& dir) {
    std::ifstream in(dir + "/starts");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

bool exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

void runFor(EventLoop& loop, std::chrono::milliseconds time) {
    loop.after(time, [&] { loop.stop(); });
    REQUIRE(runWithin(loop, time + 5s));
}

} // namespace

TEST_CASE("the proxy runs with libxl's arguments and is killed, reaped and cleaned up") {
    EventLoop loop;
    LogCapture logs;
    TempDir dir;
    const std::string socket = dir.path + "/qmp-libxl-7";
    std::ofstream(socket) << "stale"; // a previous run's leftover is removed first
    pid_t pid = 0;
    {
        VchanProxy proxy(loop, {writeScript(dir.path, "exec sleep 30"), "lin", 7, 8, socket});
        pid = proxy.pid();
        REQUIRE(pid > 0);
        CHECK_FALSE(exists(socket));
        runFor(loop, 200ms);
        REQUIRE(startsOf(dir.path) ==
                std::vector<std::string>{"--state-path=/local/domain/0/device-model/8/"
                                         "qmp-proxy-state 8 /local/domain/8/device-model/7/"
                                         "qmp-vchan " +
                                         socket});
        CHECK(proxy.running());
        std::ofstream(socket) << "as if it listened";
    }
    CHECK(::kill(pid, 0) == -1); // killed and reaped: not even a zombie is left
    CHECK(errno == ESRCH);
    CHECK_FALSE(exists(socket));
}

TEST_CASE("the display proxy reaches the vnc-vchan, with no state path, logged as vnc-proxy") {
    EventLoop loop;
    LogCapture logs;
    TempDir dir;
    VchanProxyParams params{writeScript(dir.path, "exec sleep 30"), "lin", 7, 8,
                            dir.path + "/vnc-stubdomd-7"};
    params.channel = "vnc";
    params.statePath = false;
    VchanProxy proxy(loop, params);
    CHECK(proxy.argv() == std::vector<std::string>{params.program, "8",
                                                   "/local/domain/8/device-model/7/vnc-vchan",
                                                   dir.path + "/vnc-stubdomd-7"});
    runFor(loop, 200ms);
    REQUIRE(startsOf(dir.path) ==
            std::vector<std::string>{"8 /local/domain/8/device-model/7/vnc-vchan " + dir.path +
                                     "/vnc-stubdomd-7"});
}

TEST_CASE("a proxy that dies is started again after a backoff") {
    EventLoop loop;
    LogCapture logs;
    TempDir dir;
    VchanProxy proxy(loop, {writeScript(dir.path, "exit 1"), "lin", 7, 8, dir.path + "/s"});
    runFor(loop, 800ms);
    CHECK(startsOf(dir.path).size() == 2); // at once, then after 500 ms
    CHECK_FALSE(proxy.gaveUp());
    bool logged = false;
    for (const auto& line : logs.lines)
        logged |= line.find("the QMP proxy exited with status 1; starting it again") == 0;
    CHECK(logged);
}

TEST_CASE("a proxy program that cannot run is a SpawnFailed error at once") {
    EventLoop loop;
    TempDir dir;
    try {
        VchanProxy proxy(loop, {dir.path + "/missing", "lin", 7, 8, dir.path + "/s"});
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::SpawnFailed);
        CHECK_THAT(e.what(), Catch::Contains(dir.path + "/missing"));
    }
}

TEST_CASE("the monitor asks query-vnc on the guest's socket and parses the answer") {
    EventLoop loop;
    LogCapture logs;
    TempDir dir;
    QmpLimits limits;
    limits.timeout = 1s;
    QmpMonitor monitor(loop, {writeScript(dir.path, "exec sleep 30"), dir.path + "/run", limits});
    CHECK_THROWS_WITH(monitor.queryVnc(7, [](auto&&...) {}), Catch::Contains("no QMP channel"));
    monitor.open("lin", 7, 8);
    CHECK(monitor.socketPath(7) == dir.path + "/run/qmp-libxl-7");
    json vncInfo = {{"enabled", true}, {"host", "10.0.0.2"}, {"service", "5901"}, {"auth", "vnc"}};
    QmpPeer peer(loop, monitor.socketPath(7),
                 "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n",
                 [&](const std::string& line) {
                     json request = json::parse(line);
                     json reply = {{"return", json::object()}, {"id", request["id"]}};
                     if (request["execute"] == "query-vnc")
                         reply["return"] = vncInfo;
                     return reply.dump() + "\n";
                 });
    SECTION("an endpoint") {
        std::optional<VncEndpoint> got;
        monitor.queryVnc(7, [&](const std::optional<Error>& error, const VncEndpoint& vnc) {
            CHECK_FALSE(error);
            got = vnc;
            loop.stop();
        });
        REQUIRE(runWithin(loop, 5s));
        REQUIRE(got);
        CHECK(got->enabled);
        CHECK(got->host == "10.0.0.2");
        CHECK(got->service == "5901");
    }
    SECTION("an answer without the fields libxl needs is a protocol error") {
        vncInfo = {{"enabled", true}};
        std::optional<Error> got;
        monitor.queryVnc(7, [&](const std::optional<Error>& error, const VncEndpoint&) {
            got = error;
            loop.stop();
        });
        REQUIRE(runWithin(loop, 5s));
        REQUIRE(got);
        CHECK(got->code() == ErrorCode::SpawnFailed);
        CHECK_THAT(got->what(), Catch::Contains("unexpected reply to QMP query-vnc"));
    }
    SECTION("change-vnc-password carries the password") {
        std::optional<std::optional<Error>> got;
        monitor.setVncPassword(7, "pw", [&](const std::optional<Error>& error) {
            got = error;
            loop.stop();
        });
        REQUIRE(runWithin(loop, 5s));
        REQUIRE(got);
        CHECK_FALSE(*got);
        REQUIRE(peer.received.size() == 2);
        json sent = json::parse(peer.received[1]);
        CHECK(sent["execute"] == "change-vnc-password");
        CHECK(sent["arguments"] == json{{"password", "pw"}});
    }
    SECTION("more conversations than the bound are Busy") {
        for (unsigned i = 0; i < QmpMonitor::maxConversations; ++i)
            monitor.queryVnc(7, [](auto&&...) {});
        try {
            monitor.queryVnc(7, [](auto&&...) {});
            FAIL("no error");
        } catch (const Error& e) {
            CHECK(e.code() == ErrorCode::Busy);
        }
    }
    monitor.close(7);
    CHECK_FALSE(exists(monitor.socketPath(7)));
}
