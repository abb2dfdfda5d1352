// The QMP channels on their own: which stub each open channel serves, its password auth,
// a failed open leaving nothing open, and a close that also removes the proxy's state.
#include "Fakes.hpp"

#include "core/DeviceModelChannel.hpp"
#include "core/XenPaths.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using namespace stubdomd::fakes;

namespace {

struct CallLog : DeviceModelMonitor {
    std::vector<std::string> calls;
    bool refuse = false;
    void open(const std::string& name, DomId guest, DomId stub) override {
        if (refuse)
            throw Error(ErrorCode::SpawnFailed, "cannot run vchan-socket-proxy");
        calls.push_back("open " + name + " " + std::to_string(guest) + " " + std::to_string(stub));
    }
    void close(DomId guest) override { calls.push_back("close " + std::to_string(guest)); }
    void queryVnc(DomId, VncDone) override {}
    void setVncPassword(DomId, const std::string&, Completion) override {}
};

} // namespace

TEST_CASE("device-model channel: open, password auth, close with the proxy's state") {
    FakeStore store;
    CallLog monitor;
    DeviceModelChannel channel(store);
    channel.setMonitor(monitor);
    REQUIRE(channel.available());
    CHECK(channel.stubOf(5) == 0);

    channel.open("web", 5, 9);
    CHECK(channel.stubOf(5) == 9);
    CHECK_FALSE(channel.passwordAuth(5)); // until told
    channel.setPasswordAuth(5, true);
    CHECK(channel.passwordAuth(5));
    channel.setPasswordAuth(6, true); // no channel: nothing to remember
    CHECK_FALSE(channel.passwordAuth(6));

    store.put(paths::legacyDeviceModel(9) + "/state", "running");
    channel.close(5, {});
    CHECK(channel.stubOf(5) == 0);
    CHECK_FALSE(channel.passwordAuth(5));
    CHECK_FALSE(store.read(paths::legacyDeviceModel(9) + "/state"));
    channel.close(5, {}); // closed already: the monitor hears nothing more
    CHECK(monitor.calls == std::vector<std::string>{"open web 5 9", "close 5"});
}

TEST_CASE("device-model channel: a failed open leaves nothing open; no monitor, no channel") {
    FakeStore store;
    CallLog monitor;
    DeviceModelChannel channel(store);
    channel.setMonitor(monitor);
    monitor.refuse = true;
    CHECK_THROWS_AS(channel.open("web", 5, 9), Error);
    CHECK(channel.stubOf(5) == 0);
    channel.close(5, {});
    CHECK(monitor.calls.empty());

    DeviceModelChannel without(store);
    CHECK_FALSE(without.available());
    without.open("web", 5, 9);
    CHECK(without.stubOf(5) == 0);
}
