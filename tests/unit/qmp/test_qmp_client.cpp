// QmpClient against scripted peers on a real event loop: the conversation libxl has
// with qemu, and every way a device model can misbehave ending in a typed error,
// within the deadline, with the connection closed.
#include "LoopTestSupport.hpp"
#include "QmpPeer.hpp"
#include "qmp/QmpClient.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>

using namespace stubdomd;
using namespace stubdomd::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string kGreeting =
    R"({"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 7}}, "capabilities": ["oob"]}})"
    "\r\n";

// Answers like qemu: capabilities with {}, the commands from `replies` by name.
QmpPeer::Answer qemuLike(std::map<std::string, json> replies) {
    return [replies](const std::string& line) -> std::string {
        json request = json::parse(line);
        const std::string name = request.at("execute");
        json reply;
        if (name == "qmp_capabilities")
            reply = {{"return", json::object()}};
        else if (auto it = replies.find(name); it != replies.end())
            reply = it->second;
        else
            reply = {{"error",
                      {{"class", "CommandNotFound"},
                       {"desc", "The command " + name + " has not been found"}}}};
        if (request.contains("id"))
            reply["id"] = request["id"];
        return reply.dump() + "\r\n";
    };
}

struct Outcome {
    bool called = false;
    std::optional<QmpError> error;
    std::vector<json> returns;
};

// Runs one conversation to its end (or fails the test after `limit`).
Outcome converse(EventLoop& loop, QmpClient& client, const std::string& path,
                 std::vector<QmpCommand> commands, std::chrono::milliseconds limit = 5s) {
    Outcome out;
    client.run(path, std::move(commands),
               [&](const std::optional<QmpError>& error, const std::vector<json>& returns) {
                   out.called = true;
                   out.error = error;
                   out.returns = returns;
                   loop.stop();
               });
    REQUIRE_FALSE(out.called); // never from inside run()
    REQUIRE(runWithin(loop, limit));
    return out;
}

QmpLimits limits(std::chrono::milliseconds timeout, std::size_t maxLine = 64 * 1024) {
    QmpLimits l;
    l.timeout = timeout;
    l.maxLine = maxLine;
    l.connectRetry = 20ms;
    return l;
}

} // namespace

TEST_CASE("QMP: greeting, capabilities, then the commands in order with their arguments") {
    EventLoop loop;
    TempDir dir;
    const std::string path = dir.path + "/qmp";
    QmpPeer peer(
        loop, path, kGreeting,
        qemuLike({{"query-status", {{"return", {{"running", true}, {"status", "running"}}}}},
                  {"change-vnc-password", {{"return", json::object()}}}}));
    QmpClient client(loop, limits(2s));
    auto out = converse(
        loop, client, path,
        {{"query-status", json::object()}, {"change-vnc-password", {{"password", "s3cret"}}}});
    REQUIRE_FALSE(out.error);
    REQUIRE(out.returns.size() == 2);
    CHECK(out.returns[0].at("status") == "running");
    CHECK(out.returns[1] == json::object());
    REQUIRE(peer.received.size() == 3);
    CHECK(json::parse(peer.received[0]).at("execute") == "qmp_capabilities");
    json first = json::parse(peer.received[1]);
    CHECK(first.at("execute") == "query-status");
    CHECK_FALSE(first.contains("arguments"));
    json second = json::parse(peer.received[2]);
    CHECK(second.at("arguments") == json{{"password", "s3cret"}});
    CHECK(first.at("id") != second.at("id"));
}

TEST_CASE("QMP: asynchronous events before and between replies are skipped") {
    EventLoop loop;
    TempDir dir;
    const std::string path = dir.path + "/qmp";
    auto base =
        qemuLike({{"query-vnc",
                   {{"return", {{"enabled", true}, {"host", "10.0.0.2"}, {"service", "5901"}}}}}});
    const std::string event =
        R"({"event": "VNC_CONNECTED", "timestamp": {"seconds": 1, "microseconds": 2}, "data": {}})"
        "\n";
    QmpPeer peer(loop, path, kGreeting + event,
                 [&](const std::string& line) { return event + event + base(line); });
    QmpClient client(loop, limits(2s));
    auto out = converse(loop, client, path, {{"query-vnc", json::object()}});
    REQUIRE_FALSE(out.error);
    REQUIRE(out.returns.size() == 1);
    CHECK(out.returns[0].at("service") == "5901");
}

TEST_CASE("QMP: an error reply stops the conversation with qemu's class and description") {
    EventLoop loop;
    TempDir dir;
    const std::string path = dir.path + "/qmp";
    QmpPeer peer(
        loop, path, kGreeting,
        qemuLike({{"change-vnc-password",
                   {{"error", {{"class", "GenericError"}, {"desc", "Could not set password"}}}}},
                  {"query-status", {{"return", json::object()}}}}));
    QmpClient client(loop, limits(2s));
    auto out = converse(loop, client, path,
                        {{"change-vnc-password", {{"password", "x"}}}, {"query-status", {}}});
    REQUIRE(out.error);
    CHECK(out.error->failure() == QmpFailure::Command);
    CHECK(out.error->errorClass() == "GenericError");
    CHECK(out.error->code() == ErrorCode::SpawnFailed);
    CHECK_THAT(out.error->what(), Catch::Contains("change-vnc-password failed: GenericError: "
                                                  "Could not set password"));
    CHECK(peer.received.size() == 2); // query-status was never sent
}

TEST_CASE("QMP: a command qemu does not know is NotSupported") {
    EventLoop loop;
    TempDir dir;
    const std::string path = dir.path + "/qmp";
    QmpPeer peer(loop, path, kGreeting, qemuLike({}));
    QmpClient client(loop, limits(2s));
    auto out = converse(loop, client, path, {{"query-vnc", {}}});
    REQUIRE(out.error);
    CHECK(out.error->code() == ErrorCode::NotSupported);
    CHECK(out.error->errorClass() == "CommandNotFound");
}

TEST_CASE("QMP: garbage from the peer is a protocol error naming what arrived") {
    EventLoop loop;
    TempDir dir;
    const std::string path = dir.path + "/qmp";
    SECTION("instead of the greeting") {
        QmpPeer peer(loop, path, "this is not json\n", qemuLike({}));
        QmpClient client(loop, limits(2s));
        auto out = converse(loop, client, path, {{"query-status", {}}});
        REQUIRE(out.error);
        CHECK(out.error->failure() == QmpFailure::Protocol);
        CHECK(out.error->code() == ErrorCode::SpawnFailed);
        CHECK_THAT(out.error->what(), Catch::Contains("not a QMP message") &&
                                          Catch::Contains("waiting for the greeting") &&
                                          Catch::Contains("this is not json"));
    }
    SECTION("JSON that is not the greeting") {
        QmpPeer peer(loop, path, "{\"return\": {}}\n", qemuLike({}));
        QmpClient client(loop, limits(2s));
        auto out = converse(loop, client, path, {{"query-status", {}}});
        REQUIRE(out.error);
        CHECK(out.error->failure() == QmpFailure::Protocol);
        CHECK_THAT(out.error->what(), Catch::Contains("expected the QMP greeting"));
    }
    SECTION("a JSON array in reply") {
        QmpPeer peer(loop, path, kGreeting, [](const std::string&) { return "[1,2]\n"; });
        QmpClient client(loop, limits(2s));
        auto out = converse(loop, client, path, {{"query-status", {}}});
        REQUIRE(out.error);
        CHECK(out.error->failure() == QmpFailure::Protocol);
        CHECK_THAT(out.error->what(), Catch::Contains("in reply to qmp_capabilities"));
    }
    SECTION("a reply with another id") {
        QmpPeer peer(loop, path, kGreeting,
                     [](const std::string&) { return "{\"return\": {}, \"id\": 77}\n"; });
        QmpClient client(loop, limits(2s));
        auto out = converse(loop, client, path, {{"query-status", {}}});
        REQUIRE(out.error);
        CHECK(out.error->failure() == QmpFailure::Protocol);
    }
}

TEST_CASE("QMP: a line over the limit ends the conversation and the connection") {
    EventLoop loop;
    TempDir dir;
    const std::string path = dir.path + "/qmp";
    QmpPeer peer(loop, path, std::string(8192, 'x'), qemuLike({}));
    QmpClient client(loop, limits(2s, 1024));
    auto start = Clock::now();
    auto out = converse(loop, client, path, {{"query-status", {}}});
    REQUIRE(out.error);
    CHECK(out.error->failure() == QmpFailure::Protocol);
    CHECK_THAT(out.error->what(), Catch::Contains("longer than 1024 bytes"));
    CHECK(Clock::now() - start < 1s); // at once, not at the deadline
    CHECK_FALSE(client.busy());
}

TEST_CASE("QMP: a peer that never greets times out at the deadline") {
    EventLoop loop;
    TempDir dir;
    const std::string path = dir.path + "/qmp";
    QmpPeer peer(loop, path, "", qemuLike({}));
    QmpClient client(loop, limits(300ms));
    auto start = Clock::now();
    auto out = converse(loop, client, path, {{"query-status", {}}});
    auto took = Clock::now() - start;
    REQUIRE(out.error);
    CHECK(out.error->failure() == QmpFailure::Timeout);
    CHECK(out.error->code() == ErrorCode::TimedOut);
    CHECK_THAT(out.error->what(),
               Catch::Contains("within 0.3 s") && Catch::Contains("waiting for the greeting"));
    CHECK(took >= 300ms);
    CHECK(took < 2s);
}

TEST_CASE("QMP: a peer that stalls on a command times out naming the command") {
    EventLoop loop;
    TempDir dir;
    const std::string path = dir.path + "/qmp";
    auto base = qemuLike({});
    QmpPeer peer(loop, path, kGreeting, [&](const std::string& line) {
        return json::parse(line).at("execute") == "query-vnc" ? std::string() : base(line);
    });
    QmpClient client(loop, limits(300ms));
    auto out = converse(loop, client, path, {{"query-vnc", {}}});
    REQUIRE(out.error);
    CHECK(out.error->failure() == QmpFailure::Timeout);
    CHECK_THAT(out.error->what(), Catch::Contains("in reply to query-vnc"));
}

TEST_CASE("QMP: a missing socket is tried until the deadline; one that appears is used") {
    EventLoop loop;
    TempDir dir;
    const std::string path = dir.path + "/qmp";
    SECTION("never there") {
        QmpClient client(loop, limits(200ms));
        auto out = converse(loop, client, path, {{"query-status", {}}});
        REQUIRE(out.error);
        CHECK(out.error->code() == ErrorCode::TimedOut);
        CHECK_THAT(out.error->what(), Catch::Contains("cannot connect to " + path) &&
                                          Catch::Contains("No such file or directory"));
    }
    SECTION("there after a while, as a proxy that is starting") {
        std::unique_ptr<QmpPeer> peer;
        loop.after(100ms, [&] {
            peer = std::make_unique<QmpPeer>(
                loop, path, kGreeting, qemuLike({{"query-status", {{"return", json::object()}}}}));
        });
        QmpClient client(loop, limits(2s));
        auto out = converse(loop, client, path, {{"query-status", {}}});
        CHECK_FALSE(out.error);
        CHECK(peer->connections == 1);
    }
}

TEST_CASE("QMP: a peer that hangs up is reported as closed") {
    EventLoop loop;
    TempDir dir;
    const std::string path = dir.path + "/qmp";
    std::unique_ptr<QmpPeer> peer;
    peer = std::make_unique<QmpPeer>(loop, path, kGreeting, [&](const std::string&) {
        loop.after(0ms, [&] { peer.reset(); }); // closes its end
        return std::string();
    });
    QmpClient client(loop, limits(2s));
    auto out = converse(loop, client, path, {{"query-status", {}}});
    REQUIRE(out.error);
    CHECK(out.error->failure() == QmpFailure::Closed);
    CHECK_THAT(out.error->what(), Catch::Contains("closed the QMP connection"));
}

TEST_CASE("QMP: the client may be destroyed from its callback, or in mid-conversation") {
    EventLoop loop;
    TempDir dir;
    const std::string path = dir.path + "/qmp";
    QmpPeer peer(loop, path, kGreeting, qemuLike({{"query-status", {{"return", json::object()}}}}));
    SECTION("from the callback") {
        auto client = std::make_unique<QmpClient>(loop, limits(2s));
        bool called = false;
        client->run(path, {{"query-status", {}}},
                    [&](const std::optional<QmpError>& error, const std::vector<json>&) {
                        called = true;
                        CHECK_FALSE(error);
                        client.reset();
                        loop.stop();
                    });
        REQUIRE(runWithin(loop, 5s));
        CHECK(called);
    }
    SECTION("in mid-conversation: no callback, no timer left") {
        TempDir silentDir;
        const std::string silent = silentDir.path + "/qmp";
        QmpPeer mute(loop, silent, "", qemuLike({}));
        auto client = std::make_unique<QmpClient>(loop, limits(200ms));
        bool called = false;
        client->run(
            silent, {{"query-status", {}}},
            [&](const std::optional<QmpError>&, const std::vector<json>&) { called = true; });
        loop.after(50ms, [&] { client.reset(); });
        loop.after(400ms, [&] { loop.stop(); });
        REQUIRE(runWithin(loop, 5s));
        CHECK_FALSE(called);
    }
}

TEST_CASE("QMP: a second conversation while one runs is refused") {
    EventLoop loop;
    QmpClient client(loop, limits(100ms));
    client.run("/nonexistent/qmp", {},
               [&](const std::optional<QmpError>&, const std::vector<json>&) { loop.stop(); });
    CHECK_THROWS_AS(client.run("/nonexistent/qmp", {}, {}), Error);
    REQUIRE(runWithin(loop, 5s));
}
