// The engine and a Linux stub domain's QMP channel, on the fakes: opened when the stub
// is linked and before it is unpaused, closed with the stub domain whichever way it
// ends, never for ioemu; GetDisplay and SetDisplayPassword ask qemu only while it runs
// and can answer, and the password reaches a qemu started with password auth.
#include "DisplayHarness.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using namespace stubdomd::fakes;
using Catch::Matchers::Contains;

namespace {

struct FakeMonitor : DeviceModelMonitor {
    struct Opened {
        std::string name;
        DomId guest;
        DomId stub;
    };
    std::vector<Opened> opened;
    std::vector<DomId> closed;
    std::map<DomId, DomId> open_; // guest → stub
    std::vector<VncDone> vncQueries;
    std::vector<std::pair<std::string, Completion>> passwords;

    void open(const std::string& name, DomId guest, DomId stub) override {
        opened.push_back({name, guest, stub});
        open_[guest] = stub;
    }
    void close(DomId guest) override {
        closed.push_back(guest);
        open_.erase(guest);
    }
    void queryVnc(DomId guest, VncDone done) override {
        REQUIRE(open_.count(guest));
        vncQueries.push_back(std::move(done));
    }
    void setVncPassword(DomId guest, const std::string& password, Completion done) override {
        REQUIRE(open_.count(guest));
        passwords.emplace_back(password, std::move(done));
    }
};

const std::string kIp = "172.30.206.9";

struct QmpHarness : DisplayHarness {
    FakeMonitor fake;
    explicit QmpHarness(DeviceModelMonitor* other = nullptr) {
        monitor = other ? other : &fake;
        withSpec("lx");
        StubSpec& spec = specs.specs["lx"];
        spec.flavour = Flavour::Linux;
        spec.kernel = "/usr/lib/xen/boot/qemu-stubdom-linux-kernel";
        spec.ramdisk = "/usr/lib/xen/boot/qemu-stubdom-linux-rootfs";
        spec.vifs = {"ip=" + kIp, "ip=10.0.1.1,mac=aa:00:00:12:23:34"};
        GuestDisplayConfig guest;
        guest.source = "/etc/xen/lx";
        guest.vnc = true;
        guest.vnclisten = kIp;
        sources.configs["lx"] = guest;
        start();
    }
    std::string vncArg(const std::string& uuid) {
        const std::string base = paths::dmArgv(uuid);
        for (int i = 1; i < 100; ++i) {
            char key[8];
            std::snprintf(key, sizeof key, "/%03d", i);
            if (store.has(base + key) && store.get(base + key) == "-vnc") {
                std::snprintf(key, sizeof key, "/%03d", i + 1);
                return store.get(base + key);
            }
        }
        return "";
    }
};

} // namespace

TEST_CASE("a Linux stub's QMP channel opens after linking and before unpause") {
    QmpHarness h;
    DomId g = h.addGuest("lx");
    REQUIRE(h.step("create"));
    REQUIRE(h.step("domid"));
    REQUIRE(h.fake.opened.size() == 1);
    const DomId s = h.fake.opened[0].stub;
    CHECK(h.fake.opened[0].name == "lx");
    CHECK(h.fake.opened[0].guest == g);
    CHECK(h.store.get(paths::target(s)) == std::to_string(g)); // linked first
    CHECK(h.hypervisor.domains[s].paused);                     // not yet unpaused
    h.runXl();
    REQUIRE(h.view("lx").state == GuestState::Running);
    const std::string uuid = h.view("lx").uuid;
    CHECK(h.vncArg(uuid) == kIp + ":0"); // no password: no password auth

    SECTION("Stop closes it and cleans the proxy's state node") {
        h.store.put(paths::legacyDeviceModel(s) + "/qmp-proxy-state", "running");
        h.manager->stop(uuid, [](const std::optional<Error>&) {});
        h.runXl();
        CHECK(h.fake.closed == std::vector<DomId>{g});
        CHECK_FALSE(h.store.has(paths::legacyDeviceModel(s) + "/qmp-proxy-state"));
    }
    SECTION("the guest going closes it") {
        h.removeDomain(g);
        h.settle();
        h.runXl();
        CHECK(h.fake.closed == std::vector<DomId>{g});
    }
    SECTION("the stub's death closes it") {
        h.crashDomain(s);
        h.runXl();
        CHECK(h.fake.closed == std::vector<DomId>{g});
    }
}

TEST_CASE("a proxy that cannot start fails the spawn, as in libxl") {
    struct Refusing : FakeMonitor {
        void open(const std::string&, DomId, DomId) override {
            throw Error(ErrorCode::SpawnFailed, "cannot run /nowhere/vchan-socket-proxy");
        }
    };
    Refusing refusing;
    QmpHarness h(&refusing);
    h.addGuest("lx");
    h.runXl();
    auto v = h.view("lx");
    CHECK(v.state == GuestState::Failed);
    CHECK_THAT(v.stateReason, Contains("linking the stub domain: cannot run /nowhere"));
    CHECK(h.domainsNamed("lx-dm") == 0);
}

TEST_CASE("an ioemu guest never gets a QMP channel") {
    QmpHarness h;
    h.withSpec("hvmconfig");
    h.addGuest("hvmconfig");
    h.runXl();
    REQUIRE(h.view("hvmconfig").state == GuestState::Running);
    CHECK(h.fake.opened.empty());
    bool answered = false;
    h.manager->getDisplay(h.view("hvmconfig").uuid,
                          [&](const std::optional<Error>& e, const GuestView&) { answered = !e; });
    CHECK(answered);
    CHECK(h.fake.vncQueries.empty());
}

TEST_CASE("GetDisplay of a running Linux stub reports what qemu says") {
    QmpHarness h;
    h.addGuest("lx");
    h.runXl();
    const std::string uuid = h.view("lx").uuid;
    std::optional<std::optional<Error>> error;
    GuestView got;
    h.manager->getDisplay(uuid, [&](const std::optional<Error>& e, const GuestView& v) {
        error = e;
        got = v;
    });
    REQUIRE(h.fake.vncQueries.size() == 1);
    CHECK_FALSE(error); // not before qemu answered

    SECTION("an endpoint updates the view") {
        h.fake.vncQueries[0](std::nullopt, VncEndpoint{true, "172.30.206.9", "5907"});
        REQUIRE(error);
        CHECK_FALSE(*error);
        CHECK(got.displayPort == 5907);
        CHECK(h.view("lx").displayPort == 5907);
        CHECK(h.view("lx").displayAddress == "172.30.206.9");
    }
    SECTION("qemu serving no VNC leaves no endpoint") {
        h.fake.vncQueries[0](std::nullopt, VncEndpoint{});
        CHECK(h.view("lx").displayPort == -1);
        CHECK(h.view("lx").displayAddress.empty());
    }
    SECTION("an error names the guest and keeps its code") {
        h.fake.vncQueries[0](Error(ErrorCode::TimedOut, "no answer on /run/xen/qmp-libxl-100"), {});
        REQUIRE(error);
        REQUIRE(*error);
        CHECK((*error)->code() == ErrorCode::TimedOut);
        CHECK_THAT((*error)->what(), Contains("guest lx's device model: no answer"));
        CHECK(h.view("lx").displayPort == 5900); // what was known stays
    }
}

TEST_CASE("the VNC password reaches a Linux stub's qemu over QMP, with password auth") {
    QmpHarness h;
    h.addGuest("lx");
    const std::string uuid = h.view("lx").uuid;

    SECTION("no password at start: qemu has no password auth, a new one waits for a start") {
        h.runXl();
        bool done = false;
        h.manager->setDisplayPassword(uuid, "later",
                                      [&](const std::optional<Error>& e) { done = !e; });
        CHECK(done);
        CHECK(h.fake.passwords.empty());
        CHECK(h.sources.saved[uuid].password == std::optional<std::string>("later"));
    }
    SECTION("a stored password: -vnc ...,password=on, handed over once qemu runs") {
        h.sources.saved[uuid].password = "s3cret";
        h.runXl();
        REQUIRE(h.view("lx").state == GuestState::Running);
        CHECK(h.vncArg(uuid) == kIp + ":0,password=on");
        CHECK_FALSE(h.store.has("/vm/" + uuid + "/vncpasswd")); // upstream qemu never reads it
        REQUIRE(h.fake.passwords.size() == 1);
        CHECK(h.fake.passwords[0].first == "s3cret");
        h.fake.passwords[0].second(std::nullopt);

        std::optional<std::optional<Error>> result;
        h.manager->setDisplayPassword(uuid, "n3w",
                                      [&](const std::optional<Error>& e) { result = e; });
        REQUIRE(h.fake.passwords.size() == 2);
        CHECK(h.fake.passwords[1].first == "n3w");
        CHECK_FALSE(result); // answers when qemu has it
        h.fake.passwords[1].second(Error(ErrorCode::SpawnFailed, "QMP change-vnc-password "
                                                                 "failed: GenericError: x"));
        REQUIRE(result);
        REQUIRE(*result);
        CHECK_THAT((*result)->what(), Contains("guest lx's device model: QMP"));
        // Stored for the next start all the same.
        CHECK(h.sources.saved[uuid].password == std::optional<std::string>("n3w"));
    }
}
