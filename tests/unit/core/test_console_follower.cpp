// The console follower on its own: a stub's pty, once dom0 publishes it, goes to the logs
// under the guest's name; a tty node the stub wrote itself is never opened; stop ends the
// watch and the copying alike.
#include "Fakes.hpp"

#include "core/ConsoleFollower.hpp"
#include "core/XenPaths.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using namespace stubdomd::fakes;

namespace {

class RecordingLogs : public ConsoleLogs {
public:
    std::vector<std::string> calls;
    void follow(DomId stub, const std::string& tty, const std::string& log) override {
        calls.push_back("follow " + std::to_string(stub) + " " + tty + " " + log);
    }
    void stop(DomId stub) override { calls.push_back("stop " + std::to_string(stub)); }
};

} // namespace

TEST_CASE("a published pty is followed into the guest's log, once") {
    FakeStore store;
    RecordingLogs logs;
    ConsoleFollower follower(store, "/var/log/xen");
    follower.setLogs(logs);
    // The caller learns which log, to quote only what this stub prints into it.
    CHECK(follower.follow("web", 12) == std::optional<std::string>("/var/log/xen/qemu-dm-web.log"));
    CHECK(follower.follow("web", 12) == std::nullopt); // followed already: one watch
    CHECK(store.watching(paths::consoleTty(12)) == 1);
    store.deliver(); // the registration's event: nothing published yet
    CHECK(logs.calls.empty());
    store.put(paths::consoleTty(12), "/dev/pts/4");
    store.deliver();
    CHECK(logs.calls ==
          std::vector<std::string>{"stop 12", "follow 12 /dev/pts/4 /var/log/xen/qemu-dm-web.log"});
    CHECK(store.watching(paths::consoleTty(12)) == 0);
}

TEST_CASE("a tty node the stub domain wrote itself is never opened") {
    FakeStore store;
    RecordingLogs logs;
    ConsoleFollower follower(store, "/var/log/xen");
    follower.setLogs(logs);
    follower.follow("web", 12);
    store.put(paths::consoleTty(12), "/etc/shadow", /*owner=*/12);
    store.deliver();
    CHECK(logs.calls.empty());
    CHECK(store.watching(paths::consoleTty(12)) == 1);
}

TEST_CASE("stop ends the watch and the copying; without logs nothing is watched") {
    FakeStore store;
    RecordingLogs logs;
    ConsoleFollower follower(store, "/var/log/xen");
    CHECK(follower.follow("web", 12) == std::nullopt);
    CHECK(store.watching(paths::consoleTty(12)) == 0);
    follower.setLogs(logs);
    follower.follow("web", 12);
    follower.stop(12);
    CHECK(store.watching(paths::consoleTty(12)) == 0);
    CHECK(logs.calls == std::vector<std::string>{"stop 12"});
    store.put(paths::consoleTty(12), "/dev/pts/4");
    store.deliver();
    CHECK(logs.calls.size() == 1);
}
