// The README's display set-ups as pure rules (core/Display.hpp).
#include "core/Display.hpp"
#include "core/Errors.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using Catch::Matchers::Contains;

namespace {

StubSpec readmeStub(std::vector<std::string> vifs = {"", "ip=10.0.1.1,mac=aa:00:00:12:23:34"},
                    std::vector<std::string> vfbs = {}) {
    StubSpec spec;
    spec.sourceFile = "/etc/xen/stubdom-hvmconfig";
    spec.vifs = std::move(vifs);
    spec.vfbs = std::move(vfbs);
    return spec;
}

GuestDisplayConfig guestConfig() {
    GuestDisplayConfig g;
    g.source = "/etc/xen/hvmconfig";
    return g;
}

DisplayPlan plan(const StubSpec& stub, const GuestDisplayConfig* guest = nullptr,
                 const DisplayChoice* choice = nullptr, DisplayEnvironment env = {}) {
    DisplayInputs in;
    in.stub = &stub;
    in.guest = guest;
    in.choice = choice;
    in.environment = env;
    return planDisplay(in);
}

std::string refusal(const StubSpec& stub, const GuestDisplayConfig* guest = nullptr,
                    const DisplayChoice* choice = nullptr, DisplayEnvironment env = {}) {
    try {
        plan(stub, guest, choice, env);
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::InvalidDisplay);
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("the README's base stub config has no display", "[display]") {
    auto p = plan(readmeStub());
    CHECK(p.mode == DisplayMode::None);
    CHECK(p.vfbs.empty());
    CHECK(p.vifs == readmeStub().vifs);
    CHECK_FALSE(p.deviceModel.vnc);
    CHECK(p.address.empty());
}

TEST_CASE("the README's SDL set-up: vnc = 0, sdl = 0 and an sdl vfb", "[display]") {
    auto guest = guestConfig();
    guest.vnc = false;
    guest.sdl = false;
    auto stub = readmeStub({"", "ip=10.0.1.1"}, {"type=sdl"});
    auto p = plan(stub, &guest, nullptr, {std::string(":0"), std::string("/root/.Xauthority")});
    CHECK(p.mode == DisplayMode::Sdl);
    CHECK(p.vfbs == std::vector<std::string>{"type=sdl,display=:0,xauthority=/root/.Xauthority"});
    CHECK(p.address.empty());
    CHECK(p.port == -1);

    SECTION("the vfb's own display wins over the environment") {
        auto own = readmeStub({""}, {"type=sdl,display=:1"});
        CHECK(plan(own, &guest, nullptr, {std::string(":0"), {}}).vfbs ==
              std::vector<std::string>{"type=sdl,display=:1"});
    }
    SECTION("without any X display it is refused, naming the file and key") {
        auto why = refusal(stub, &guest);
        CHECK_THAT(why, Contains("/etc/xen/stubdom-hvmconfig") && Contains("vfb type=sdl") &&
                            Contains("DISPLAY"));
    }
}

TEST_CASE("the README's VNC-in-the-stub set-up with its example values", "[display]") {
    auto guest = guestConfig();
    guest.vnc = true;
    guest.vnclisten = "172.30.206.1";
    guest.lines = {{"vnc", 4}, {"vnclisten", 5}};
    auto stub = readmeStub({"ip=172.30.206.1", "ip=10.0.1.1,mac=aa:00:00:12:23:34"});
    auto p = plan(stub, &guest);
    CHECK(p.mode == DisplayMode::VncStubdom);
    CHECK(p.address == "172.30.206.1");
    CHECK(p.port == 5900);
    CHECK(p.deviceModel.vnc == std::optional<std::string>("172.30.206.1:0"));
    CHECK(p.vifs == stub.vifs);
    CHECK(p.vfbs.empty());
    CHECK(displayUri(p.mode, p.address, p.port) == "vnc://172.30.206.1:5900");

    SECTION("vncdisplay moves the port") {
        guest.vncdisplay = 3;
        CHECK(plan(stub, &guest).port == 5903);
    }
    SECTION("the largest display still names a port") {
        guest.vncdisplay = 65535 - 5900;
        CHECK(plan(stub, &guest).port == 65535);
    }
    SECTION("a display past port 65535 is refused, naming the key") {
        guest.lines["vncdisplay"] = 6;
        guest.vncdisplay = 60000; // 65900 is no TCP port
        CHECK_THAT(refusal(stub, &guest), Contains("/etc/xen/hvmconfig:6") &&
                                              Contains("VNC display 60000") &&
                                              Contains("at most 59635"));
    }
    SECTION("vnclisten's display is bounded too, with no overflow for a huge one") {
        // Found by fuzz-display: 5900 + 2147483647 overflowed the port's int32.
        guest.vnclisten = "172.30.206.1:2147483647";
        CHECK_THAT(refusal(stub, &guest),
                   Contains("/etc/xen/hvmconfig:5: vnclisten") && Contains("is not a port"));
        guest.vnclisten = "172.30.206.1:99999999999999999999999";
        CHECK_THAT(refusal(stub, &guest), Contains("is not a port"));
    }
    SECTION("a host name is refused: Mini-OS has no resolver") {
        guest.vnclisten = "vnc.example.org";
        CHECK_THAT(refusal(stub, &guest), Contains("/etc/xen/hvmconfig:5") &&
                                              Contains("vnclisten") && Contains("name resolver"));
    }
    SECTION("a loopback address is refused: nobody could connect") {
        guest.vnclisten = "127.0.0.1";
        CHECK_THAT(refusal(stub, &guest), Contains("/etc/xen/hvmconfig:5") && Contains("loopback"));
        guest.vnclisten = "::1";
        CHECK_THAT(refusal(stub, &guest), Contains("loopback"));
    }
    SECTION("the reserved vif's ip= must match vnclisten") {
        auto other = readmeStub({"ip=172.30.206.2", "ip=10.0.1.1"});
        CHECK_THAT(refusal(other, &guest), Contains("/etc/xen/stubdom-hvmconfig: vif") &&
                                               Contains("ip=172.30.206.2") &&
                                               Contains("does not match"));
    }
    SECTION("the reserved vif must be filled") {
        CHECK_THAT(refusal(readmeStub(), &guest),
                   Contains("/etc/xen/stubdom-hvmconfig: vif") && Contains("has no ip="));
    }
    SECTION("the reserved vif must exist") {
        CHECK_THAT(refusal(readmeStub({}), &guest),
                   Contains("/etc/xen/stubdom-hvmconfig: vif") && Contains("reserved first vif"));
    }
    SECTION("without a guest config, a filled reserved vif means VNC in the stub") {
        auto q = plan(stub);
        CHECK(q.mode == DisplayMode::VncStubdom);
        CHECK(q.address == "172.30.206.1");
    }
}

TEST_CASE("the README's VNC-in-dom0 set-up", "[display]") {
    auto guest = guestConfig();
    guest.vnc = false;
    guest.sdl = false;
    auto stub = readmeStub({"", "ip=10.0.1.1"}, {"type=vnc,vncdisplay=2,vncunused=0,keymap=de"});
    auto p = plan(stub, &guest);
    CHECK(p.mode == DisplayMode::VncDom0);
    CHECK(p.vfbs == stub.vfbs);
    CHECK(p.address == "127.0.0.1");
    CHECK(p.portFromStore);
    CHECK_FALSE(p.deviceModel.vnc); // the dom0 backend serves it, not the stub's ioemu

    SECTION("vnclisten in the vfb is the address") {
        auto listen = readmeStub({""}, {"type=vnc,vnclisten=192.168.1.5"});
        CHECK(plan(listen, &guest).address == "192.168.1.5");
    }
}

TEST_CASE("guest and stub settings must not contradict each other", "[display]") {
    auto guest = guestConfig();
    guest.lines = {{"vnc", 7}, {"sdl", 8}};
    SECTION("VNC from the stub's ioemu while the stub has an SDL vfb") {
        guest.vnc = true;
        auto why =
            refusal(readmeStub({""}, {"type=sdl"}), &guest, nullptr, {std::string(":0"), {}});
        CHECK_THAT(why,
                   Contains("/etc/xen/hvmconfig:7") && Contains("vnc = 1") && Contains("type=sdl"));
    }
    SECTION("VNC from the stub's ioemu while the stub has a VNC vfb") {
        guest.vnc = true;
        CHECK_THAT(refusal(readmeStub({""}, {"type=vnc"}), &guest), Contains("type=vnc"));
    }
    SECTION("sdl = 1 in the guest") {
        guest.sdl = true;
        CHECK_THAT(
            refusal(readmeStub({""}, {"type=sdl"}), &guest, nullptr, {std::string(":0"), {}}),
            Contains("/etc/xen/hvmconfig:8") && Contains("sdl = 1"));
    }
    SECTION("an unknown vfb type") {
        CHECK_THAT(refusal(readmeStub({""}, {"type=spice"})),
                   Contains("/etc/xen/stubdom-hvmconfig: vfb") && Contains("type=spice"));
    }
}

TEST_CASE("a SetDisplay choice overrides the configs and is checked too", "[display]") {
    auto stub = readmeStub();
    DisplayChoice choice;
    SECTION("vnc-stubdom fills the reserved vif") {
        choice.mode = DisplayMode::VncStubdom;
        choice.address = "172.30.206.1";
        choice.port = 5901;
        auto p = plan(stub, nullptr, &choice);
        CHECK(p.vifs.front() == "ip=172.30.206.1");
        CHECK(p.vifs.back() == "ip=10.0.1.1,mac=aa:00:00:12:23:34");
        CHECK(p.deviceModel.vnc == std::optional<std::string>("172.30.206.1:1"));
        CHECK(p.port == 5901);
    }
    SECTION("vnc-stubdom without any address is refused") {
        choice.mode = DisplayMode::VncStubdom;
        CHECK_THAT(refusal(stub, nullptr, &choice), Contains("needs an address"));
    }
    SECTION("vnc-stubdom on loopback is refused") {
        choice.mode = DisplayMode::VncStubdom;
        choice.address = "127.0.0.1";
        CHECK_THAT(refusal(stub, nullptr, &choice), Contains("loopback"));
    }
    SECTION("vnc-stubdom without the reserved vif is refused") {
        choice.mode = DisplayMode::VncStubdom;
        choice.address = "172.30.206.1";
        CHECK_THAT(refusal(readmeStub({}), nullptr, &choice), Contains("reserved first vif"));
    }
    SECTION("vnc-dom0 writes a vfb") {
        choice.mode = DisplayMode::VncDom0;
        choice.port = -1;
        choice.keymap = "de";
        auto p = plan(stub, nullptr, &choice);
        CHECK(p.vfbs == std::vector<std::string>{"type=vnc,vncunused=1,keymap=de"});
        CHECK(p.address == "127.0.0.1");
    }
    SECTION("a port outside VNC's range is refused") {
        choice.mode = DisplayMode::VncDom0;
        choice.port = 80;
        CHECK_THAT(refusal(stub, nullptr, &choice), Contains("port 80"));
    }
    SECTION("a keymap longer than any keymap name is refused, and quoted only in part") {
        choice.mode = DisplayMode::VncDom0;
        choice.keymap = std::string(1 << 20, 'k');
        auto message = refusal(stub, nullptr, &choice);
        CHECK_THAT(message, Contains("is not a keymap name"));
        CHECK(message.size() < 1024);
    }
    SECTION("none drops a vfb") {
        choice.mode = DisplayMode::None;
        CHECK(plan(readmeStub({""}, {"type=vnc"}), nullptr, &choice).vfbs.empty());
    }
}

TEST_CASE("address helpers", "[display]") {
    CHECK(isIpLiteral("10.0.1.1"));
    CHECK(isIpLiteral("fe80::1"));
    CHECK_FALSE(isIpLiteral("localhost"));
    CHECK_FALSE(isIpLiteral("10.0.1.1:0"));
    CHECK(isLoopback("127.1.2.3"));
    CHECK(isLoopback("::ffff:127.0.0.1"));
    CHECK_FALSE(isLoopback("10.0.1.1"));
    CHECK(displayUri(DisplayMode::VncDom0, "fe80::1", 5900) == "vnc://[fe80::1]:5900");
    CHECK(displayUri(DisplayMode::VncDom0, "127.0.0.1", -1).empty());
    CHECK(displayUri(DisplayMode::Sdl, "", -1).empty());
    CHECK(formatDeviceString(parseDeviceString(" type=vnc, vncdisplay=1 ")) ==
          "type=vnc,vncdisplay=1");
}
