// The libxenstore and libxenctrl adapters against the simulated host: real xenstored
// under the shim, reached through XENSTORED_PATH, the shim preloaded into this test.
// Run by run-with-xensim.sh, which brings the sim up and down around it.
#include "../loop/LoopTestSupport.hpp"
#include "xen/XenCtrl.hpp"
#include "xen/XenStore.hpp"
#include "xen/XlToolstack.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using namespace stubdomd;
using namespace std::chrono_literals;
using stubdomd::test::runWithin;

namespace {

// Every test works below its own node so that tests do not see each other's keys.
std::string scratch(const std::string& name) {
    return "/stubdomd-test/" + name;
}

} // namespace

TEST_CASE("xenstore: write, read, list and remove", "[xenstore]") {
    XenStore store;
    auto base = scratch("rw");
    store.remove(base);
    CHECK_FALSE(store.read(base + "/a").has_value());
    CHECK(store.list(base).empty());

    store.write(base + "/a", "one");
    store.write(base + "/b", std::string("with\0nul", 8));
    store.mkdir(base + "/c");
    CHECK(store.read(base + "/a") == std::optional<std::string>("one"));
    CHECK(store.read(base + "/b") == std::optional<std::string>(std::string("with\0nul", 8)));
    CHECK(store.read(base + "/c") == std::optional<std::string>(""));
    auto names = store.list(base);
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"a", "b", "c"});

    store.remove(base);
    CHECK_FALSE(store.read(base + "/a").has_value());
    CHECK_NOTHROW(store.remove(base)); // gone already: fine
}

TEST_CASE("xenstore: permissions round-trip, owner first", "[xenstore]") {
    XenStore store;
    auto path = scratch("perms");
    store.write(path, "x");
    // xenstored refuses entries for domains that do not exist; dom0 is the one there is.
    for (Access access : {Access::None, Access::Read, Access::Write, Access::Both}) {
        std::vector<Permission> perms{{0, access}};
        store.setPermissions(path, perms);
        CHECK(store.permissions(path) == std::optional<std::vector<Permission>>(perms));
    }
    std::vector<Permission> two{{0, Access::None}, {0, Access::Read}};
    store.setPermissions(path, two);
    CHECK(store.permissions(path) == std::optional<std::vector<Permission>>(two));
    CHECK_FALSE(store.permissions(scratch("perms-missing")).has_value());
    store.remove(path);
}

TEST_CASE("xenstore: failures are internal errors naming the operation and path", "[xenstore]") {
    XenStore store;
    try {
        store.write("not-absolute//x", "v");
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::Internal);
        CHECK_THAT(e.what(), Catch::StartsWith("xenstore write not-absolute//x: "));
    }
}

TEST_CASE("xenstore: one request counted per call", "[xenstore]") {
    XenStore store;
    auto before = store.requestCount();
    store.write(scratch("count"), "1");
    store.read(scratch("count"));
    store.list("/stubdomd-test");
    store.permissions(scratch("count"));
    store.remove(scratch("count"));
    CHECK(store.requestCount() - before == 5);
}

TEST_CASE("xenstore: a watch calls its callback through the loop", "[xenstore][watch]") {
    EventLoop loop;
    XenStore store;
    auto path = scratch("watched");
    store.remove(path);
    std::vector<std::string> events;
    store.attach(loop);
    const auto id = store.watch(path, [&](const std::string& p) {
        events.push_back(p);
        if (events.size() == 1)
            store.write(path, "changed"); // from inside a callback, too
        else
            loop.stop();
    }); // fires once on registration
    REQUIRE(runWithin(loop, 20s));
    REQUIRE(events.size() == 2);
    CHECK(events[0] == path);
    CHECK(events[1] == path);
    store.unwatch(id);
    store.detach();
    store.remove(path);
}

TEST_CASE("xenstore: a removed watch is never called, even for an event already queued",
          "[xenstore][watch]") {
    EventLoop loop;
    XenStore store;
    auto path = scratch("unwatched");
    store.remove(path);
    store.attach(loop);
    bool oldCalled = false, newCalled = false;
    const auto old = store.watch(path, [&](const std::string&) { oldCalled = true; });
    store.unwatch(old);
    store.unwatch(old); // a second time: nothing to remove, no request
    const auto before = store.requestCount();
    const auto fresh = store.watch(path, [&](const std::string&) {
        newCalled = true;
        loop.stop();
    });
    CHECK(store.requestCount() - before == 1);
    REQUIRE(runWithin(loop, 20s));
    CHECK(newCalled);
    CHECK_FALSE(oldCalled);
    store.unwatch(fresh);
    store.detach();
}

TEST_CASE("xenstore: special watches fire once on registration", "[xenstore][watch]") {
    EventLoop loop;
    XenStore store;
    std::vector<std::string> calls;
    store.attach(loop);
    // Each watch calls its own callback.
    const auto record = [&](const std::string& who) {
        return [&, who](const std::string&) {
            calls.push_back(who);
            if (calls.size() == 2)
                loop.stop();
        };
    };
    store.watch("@introduceDomain", record("intro"));
    store.watch("@releaseDomain", record("release"));
    REQUIRE(runWithin(loop, 20s));
    std::sort(calls.begin(), calls.end());
    CHECK(calls == std::vector<std::string>{"intro", "release"});
}

TEST_CASE("xenctrl: dom0 is listed, not HVM, and the host reports memory and a version",
          "[xenctrl]") {
    XenCtrl xc;
    auto domains = xc.listDomains();
    REQUIRE_FALSE(domains.empty());
    CHECK(domains.front().domid == 0);
    CHECK_FALSE(domains.front().hvm);
    CHECK(
        std::is_sorted(domains.begin(), domains.end(),
                       [](const DomainInfo& a, const DomainInfo& b) { return a.domid < b.domid; }));
    CHECK(xc.freeMemoryKiB() > 0);
    CHECK_THAT(xc.versionString(), Catch::Matches("[0-9]+\\.[0-9]+.*"));
}

TEST_CASE("xenctrl: operations on a domain that does not exist are internal errors", "[xenctrl]") {
    XenCtrl xc;
    CHECK_THROWS_AS(xc.crash(30000), Error);
    CHECK_THROWS_AS(xc.setTarget(30000, 30001), Error);
}

namespace {

// Runs one toolstack command (the sim's xl, first in PATH) to completion.
ToolResult runXl(EventLoop& loop, XlToolstack& xl,
                 const std::function<void(XlToolstack&, Toolstack::Done)>& command) {
    std::optional<ToolResult> result;
    command(xl, [&](const ToolResult& r) {
        result = r;
        loop.stop();
    });
    REQUIRE(runWithin(loop, 30s));
    REQUIRE(result);
    return *result;
}

DomId createHvm(EventLoop& loop, XlToolstack& xl, const std::string& name) {
    std::string dir = std::getenv("XENSIM_DIR");
    std::string config = dir + "/" + name + ".cfg";
    std::ofstream(config) << "name = \"" << name << "\"\ntype = \"hvm\"\nmemory = 64\n";
    auto created = runXl(
        loop, xl, [&](XlToolstack& t, Toolstack::Done d) { t.create(config, true, std::move(d)); });
    INFO(created.errors);
    REQUIRE(created.ok());
    auto domid =
        runXl(loop, xl, [&](XlToolstack& t, Toolstack::Done d) { t.domid(name, std::move(d)); });
    REQUIRE(domid.ok());
    return static_cast<DomId>(std::stoul(domid.output));
}

const DomainInfo* findDomain(const std::vector<DomainInfo>& domains, DomId domid) {
    for (const auto& d : domains)
        if (d.domid == domid)
            return &d;
    return nullptr;
}

} // namespace

TEST_CASE("the adapters on a guest made by the toolstack: flags, linkage, crash, destroy",
          "[xenctrl][xenstore][xl]") {
    EventLoop loop;
    XenStore store;
    XenCtrl xc;
    XlToolstack xl(loop, "xl", 30s, 2);

    DomId guest = createHvm(loop, xl, "adapter-guest");
    DomId stub = createHvm(loop, xl, "adapter-guest-dm");

    auto domains = xc.listDomains();
    const DomainInfo* info = findDomain(domains, guest);
    REQUIRE(info);
    CHECK(info->hvm);
    CHECK(info->paused);
    CHECK_FALSE(info->dying);
    CHECK_FALSE(info->shutdown);
    CHECK(info->memoryKiB >= 64 * 1024);

    // The linkage calls of DESIGN.md section 4 go through without error.
    CHECK_NOTHROW(xc.setTarget(stub, guest));
    CHECK_NOTHROW(store.setTarget(stub, guest));
    auto path = "/local/domain/0/device-model/" + std::to_string(guest);
    store.mkdir(path);
    std::vector<Permission> perms{{0, Access::None}, {guest, Access::Both}};
    store.setPermissions(path, perms);
    CHECK(store.permissions(path) == std::optional<std::vector<Permission>>(perms));
    store.remove(path);

    // A crash is a shutdown Xen reports, and xenstored fires @releaseDomain for it.
    bool released = false;
    store.attach(loop);
    const auto release = store.watch("@releaseDomain", [&](const std::string& p) {
        if (p == "@releaseDomain" && released)
            loop.stop();
        released = true; // the first event is the registration's own
    });
    xc.crash(guest);
    REQUIRE(runWithin(loop, 20s));
    domains = xc.listDomains();
    info = findDomain(domains, guest);
    REQUIRE(info);
    CHECK(info->shutdown);
    store.unwatch(release);
    store.detach();

    for (DomId domid : {stub, guest}) {
        auto destroyed = runXl(
            loop, xl, [&](XlToolstack& t, Toolstack::Done d) { t.destroy(domid, std::move(d)); });
        CHECK(destroyed.ok());
    }
    domains = xc.listDomains();
    CHECK(findDomain(domains, guest) == nullptr);
    CHECK(findDomain(domains, stub) == nullptr);
}
