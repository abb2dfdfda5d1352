// Running PV guests booted through a PV-GRUB image are listed by the engine (flavour
// pv-grub, state unmanaged): visible, never touched. Other PV domains stay unlisted.
#include "EngineHarness.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using namespace stubdomd::fakes;

namespace {

// A PV domain as libxl leaves it: /vm/<uuid>/image/kernel written before the introduce.
DomId addPvGuest(Harness& h, const std::string& name, const std::string& kernel,
                 DomId kernelOwner = 0) {
    DomId d = h.nextDomid++;
    h.makeDomain(d, name, false);
    h.store.put("/vm/" + Harness::uuidFor(d) + "/image/kernel", kernel,
                kernelOwner == 1 ? d : kernelOwner);
    h.store.fireSpecial(paths::kIntroduceDomain);
    h.settle();
    return d;
}

ErrorCode codeOf(const std::function<void()>& call) {
    try {
        call();
    } catch (const Error& e) {
        return e.code();
    }
    return ErrorCode::Internal;
}

} // namespace

TEST_CASE("a PV guest booted through PV-GRUB is listed as pv-grub, unmanaged",
          "[pvgrub][discovery]") {
    Harness h;
    h.startManager();
    addPvGuest(h, "legacy", "/usr/lib/xen/boot/pv-grub-x86_64.gz");
    addPvGuest(h, "readme", "/usr/lib/xen/boot/pv-grub.gz");
    addPvGuest(h, "grub2", "/usr/lib/grub-xen/grub-i386-xen.bin");
    for (const char* name : {"legacy", "readme", "grub2"}) {
        INFO(name);
        GuestView v = h.view(name);
        CHECK(v.flavour == Flavour::PvGrub);
        CHECK(v.state == GuestState::Unmanaged);
        CHECK(v.stubDomid == 0);
        CHECK_THAT(v.stateReason, Catch::StartsWith("a PV guest booted through PV-GRUB ("));
    }
    CHECK(h.view("legacy").stateReason == "a PV guest booted through PV-GRUB "
                                          "(/usr/lib/xen/boot/pv-grub-x86_64.gz): listed, never "
                                          "touched by stubdomd");
    CHECK(h.observer.events ==
          std::vector<std::string>{"added legacy", "added readme", "added grub2"});
    CHECK(h.toolstack.pending.empty());
}

TEST_CASE("other PV domains are not listed, and Attach calls them not HVM", "[pvgrub][discovery]") {
    Harness h;
    h.startManager();
    DomId direct = addPvGuest(h, "direct", "/boot/vmlinuz-6.1.0-amd64");
    DomId planted = addPvGuest(h, "planted", "/usr/lib/xen/boot/pv-grub-x86_64.gz", 1);
    CHECK(h.manager->guests().empty());
    CHECK(codeOf([&] { h.manager->attach(direct, [](const auto&) {}); }) == ErrorCode::NotHvm);
    CHECK(codeOf([&] { h.manager->attach(planted, [](const auto&) {}); }) == ErrorCode::NotHvm);
}

TEST_CASE("a PV-GRUB guest is never started, stopped or reloaded", "[pvgrub][discovery]") {
    Harness h;
    h.withSpec("pvg"); // even a stub config by its name changes nothing
    h.startManager();
    DomId d = addPvGuest(h, "pvg", "/usr/lib/xen/boot/pv-grub-x86_32.gz");
    const std::string uuid = h.view("pvg").uuid;
    CHECK(codeOf([&] { h.manager->start(uuid, [](const auto&) {}); }) == ErrorCode::NotHvm);
    CHECK(codeOf([&] { h.manager->attach(d, [](const auto&) {}); }) == ErrorCode::NotHvm);
    CHECK(codeOf([&] { h.manager->restart(uuid, [](const auto&) {}); }) == ErrorCode::InvalidState);
    CHECK(codeOf([&] { h.manager->stop(uuid, [](const auto&) {}); }) == ErrorCode::InvalidState);
    h.manager->reload();
    h.settle();
    CHECK(h.toolstack.pending.empty());
    CHECK(h.view("pvg").state == GuestState::Unmanaged);
}

TEST_CASE("a PV-GRUB guest that goes away is dropped without touching xenstore",
          "[pvgrub][discovery]") {
    Harness h;
    h.startManager();
    DomId d = addPvGuest(h, "pvg", "/usr/lib/xen/boot/pv-grub-x86_64.gz");
    const std::string legacy = paths::legacyDeviceModel(d);
    h.store.put(legacy + "/state", "someone else's"); // must survive: it is not ours
    const unsigned before = h.store.requests;
    h.removeDomain(d);
    h.settle();
    CHECK(h.manager->guests().empty());
    CHECK(h.observer.events.back() == "removed pvg");
    CHECK(h.store.get(legacy + "/state") == "someone else's");
    CHECK(h.store.requests - before <= 1); // nothing beyond what the rescan itself costs
    CHECK(h.toolstack.pending.empty());
}

TEST_CASE("a PV domain seen before libxl wrote its kernel is looked at again",
          "[pvgrub][discovery]") {
    Harness h;
    h.startManager();
    DomId d = h.nextDomid++;
    h.makeDomain(d, "late", false);
    h.addGuest("other-event", true); // a rescan while "late" is half-built
    CHECK_FALSE(h.manager->findGuest("late"));
    h.store.put("/vm/" + Harness::uuidFor(d) + "/image/kernel",
                "/usr/lib/xen/boot/pv-grub-x86_64.gz");
    h.store.fireSpecial(paths::kIntroduceDomain);
    h.settle();
    CHECK(h.view("late").flavour == Flavour::PvGrub);
}

TEST_CASE("PV-GRUB guests running when stubdomd starts are listed", "[pvgrub][discovery]") {
    Harness h;
    DomId d = h.nextDomid++;
    h.makeDomain(d, "early", false);
    h.store.put("/vm/" + Harness::uuidFor(d) + "/image/kernel",
                "/usr/lib/xen/boot/pv-grub-x86_64.gz");
    h.startManager();
    CHECK(h.view("early").flavour == Flavour::PvGrub);
    CHECK(h.view("early").state == GuestState::Unmanaged);
}

TEST_CASE("the cost of a new non-PV-GRUB PV domain is two trusted reads", "[pvgrub][discovery]") {
    Harness h;
    h.startManager();
    DomId d = h.nextDomid++;
    h.makeDomain(d, "direct", false);
    h.store.put("/vm/" + Harness::uuidFor(d) + "/image/kernel", "/boot/vmlinuz");
    const unsigned before = h.store.requests;
    h.store.fireSpecial(paths::kIntroduceDomain);
    h.settle();
    // vm and image/kernel, each its permissions then its value.
    CHECK(h.store.requests - before == 4);
}

// Issue 18: our own new stub domain is a PV domain too, introduced while `xl create -p`
// runs, before `xl domid` names it; probing it cost four requests per guest.
TEST_CASE("our own new stub domain costs no PV probe; a PV-GRUB guest that appears meanwhile "
          "is listed once the creation ends",
          "[pvgrub][discovery]") {
    Harness h;
    h.withSpec("hvm");
    h.startManager();
    h.addGuest("hvm");
    const unsigned before = h.store.requests;
    h.step("create"); // the stub is introduced, then xl returns
    // Only `xl domid` is asked; nothing read of the new domain.
    CHECK(h.store.requests == before);
    addPvGuest(h, "legacy", "/usr/lib/xen/boot/pv-grub-x86_64.gz");
    CHECK_FALSE(h.manager->findGuest("legacy")); // held back: xl domid has not answered
    h.runXl();
    CHECK(h.view("hvm").state == GuestState::Running);
    CHECK(h.view("legacy").flavour == Flavour::PvGrub);
    CHECK(h.view("legacy").state == GuestState::Unmanaged);
    // The stub was never listed as a guest of its own.
    CHECK(h.observer.events == std::vector<std::string>{"added hvm", "added legacy"});
}

TEST_CASE("a PV-GRUB guest is listed when a stub's creation fails", "[pvgrub][discovery]") {
    Harness h;
    h.withSpec("hvm");
    h.startManager();
    h.addGuest("hvm");
    addPvGuest(h, "legacy", "/usr/lib/xen/boot/pv-grub-x86_64.gz");
    CHECK_FALSE(h.manager->findGuest("legacy"));
    h.toolstack.complete("create", ToolResult{1, "", "xl: failed\n"});
    h.settle();
    CHECK(h.view("hvm").state == GuestState::Failed);
    CHECK(h.view("legacy").flavour == Flavour::PvGrub);
}
