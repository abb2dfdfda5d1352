// The display component on its own: the VNC-port watch it sets for a linked stub and
// removes once, the port taken only from dom0 or the stub, the password handed to a new
// stub (only the stub may read it), and what the toolstack said at attach.
#include "DisplayHarness.hpp"
#include "Fakes.hpp"

#include "core/DisplayControl.hpp"
#include "core/XenPaths.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using namespace stubdomd::fakes;

namespace {

struct Parts {
    Settings settings;
    FakeStore store;
    DomainProbe probe{store};
    Registry registry;
    DeviceModelChannel channel{store};
    FakeSpecs specs;
    DisplayControl display{settings, store, probe, registry, channel, specs};

    // A guest linked to stub domain `stub`, whose display plan is `plan`.
    Registry::Guest& guest(DomId domid, DomId stub, DisplayPlan plan) {
        auto guest = std::make_unique<Registry::Guest>();
        guest->view.domid = domid;
        guest->view.name = "web";
        guest->view.uuid = "00000000-0000-0000-0000-000000000001";
        guest->view.stubDomid = stub;
        guest->spec = StubSpec{};
        guest->display = std::move(plan);
        return registry.add(domid, std::move(guest));
    }
};

DisplayPlan vncDom0() {
    DisplayPlan plan;
    plan.mode = DisplayMode::VncDom0;
    plan.address = "192.0.2.7";
    plan.portFromStore = true;
    return plan;
}

} // namespace

TEST_CASE("display control: the vfb backend's VNC port is shown, and the watch goes once") {
    Parts parts;
    auto& guest = parts.guest(5, 9, vncDom0());
    const std::string port = paths::vncPort(9);

    parts.display.show(guest, 9, false);
    CHECK(guest.view.displayAddress == "192.0.2.7");
    CHECK(guest.view.displayPort == -1); // not known yet
    CHECK(parts.store.watching(port) == 1);

    parts.store.put(port, "5901", 0); // dom0's vfb backend wrote it
    parts.store.deliver();
    CHECK(guest.view.displayPort == 5901);

    parts.store.put(port, "not-a-port", 0);
    parts.store.deliver();
    CHECK(guest.view.displayPort == -1);

    parts.store.put(port, "5902", 5); // the guest may not say where its console is
    parts.store.deliver();
    CHECK(guest.view.displayPort == -1);

    GuestView& view = guest.view;
    parts.display.forget(guest, view);
    CHECK(view.displayAddress.empty());
    CHECK(parts.store.watching(port) == 0);
    const unsigned requests = parts.store.requests;
    parts.display.forget(guest, view); // nothing watched any more: nothing sent
    CHECK(parts.store.requests == requests);
}

TEST_CASE("display control: an event for a stub the guest no longer has is ignored") {
    Parts parts;
    auto& guest = parts.guest(5, 9, vncDom0());
    parts.display.show(guest, 9, false);
    parts.store.put(paths::vncPort(9), "5901", 0);
    guest.view.stubDomid = 11; // a newer stub, linked before the old watch was removed
    parts.store.deliver();
    CHECK(guest.view.displayPort == -1);
}

TEST_CASE("display control: the configs' password goes where only the stub reads it") {
    Parts parts;
    DisplayPlan plan;
    plan.mode = DisplayMode::VncStubdom;
    plan.address = "192.0.2.8";
    plan.port = 5900;
    plan.ioemuPassword = "from-config";
    auto& guest = parts.guest(5, 9, plan);

    parts.display.show(guest, 9, true);
    const std::string node = "/vm/" + guest.view.uuid + "/vncpasswd";
    CHECK(parts.store.get(node) == "from-config");
    CHECK(parts.store.permsOf(node) ==
          std::vector<Permission>{{0, Access::None}, {9, Access::Read}});
    CHECK(guest.view.displayPort == 5900);
    CHECK(parts.store.watching(paths::vncPort(9)) == 0); // the port is known: no watch

    // SetDisplayPassword's stored one wins over the configs'.
    FakeDisplaySources sources;
    sources.saved[guest.view.uuid].password = "stored";
    parts.display.setSources(sources);
    CHECK(parts.display.password(guest) == std::optional<std::string>("stored"));
    // Without a QMP monitor no qemu starts with password auth.
    CHECK_FALSE(parts.display.startsWithVncPassword(guest));
}

TEST_CASE("display control: libxl's loopback VNC default is taken as the guest not saying") {
    Parts parts;
    auto& guest = parts.guest(5, 0, DisplayPlan{});
    GuestDisplayConfig said;
    said.source = "stubdom-dm's arguments";
    said.vnc = true;
    said.vnclisten = "127.0.0.1:0";
    said.vncunused = true;
    said.keymap = "de";
    parts.display.takeToolstackSay(guest, said);
    REQUIRE(guest.toolstackDisplay);
    CHECK_FALSE(guest.toolstackDisplay->vnc);
    CHECK_FALSE(guest.toolstackDisplay->vnclisten);
    CHECK_FALSE(guest.toolstackDisplay->vncunused);
    CHECK(guest.toolstackDisplay->keymap == std::optional<std::string>("de"));

    said.vnclisten = "192.0.2.9:1"; // a real address is the guest saying
    parts.display.takeToolstackSay(guest, said);
    CHECK(guest.toolstackDisplay->vnc == std::optional<bool>(true));
    CHECK(guest.toolstackDisplay->vnclisten == std::optional<std::string>("192.0.2.9:1"));
}
