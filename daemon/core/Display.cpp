#include "core/Display.hpp"

#include "core/Errors.hpp"
#include "core/Excerpt.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdlib>
#include <limits>

namespace stubdomd {

namespace {

constexpr std::int32_t kVncBasePort = 5900;

[[noreturn]] void refuse(const std::string& reason) {
    throw Error(ErrorCode::InvalidDisplay, reason);
}

std::string quoted(const std::string& text) {
    return "\"" + excerpt(text) + "\"";
}

// The display type of a vfb entry: xl takes type=vnc|sdl, or the older vnc=1 / sdl=1.
std::optional<DisplayMode> vfbMode(const DeviceKeys& keys, const std::string& source) {
    if (auto type = deviceKey(keys, "type")) {
        if (*type == "vnc")
            return DisplayMode::VncDom0;
        if (*type == "sdl")
            return DisplayMode::Sdl;
        refuse(source + ": vfb: type=" + *type + " is neither vnc nor sdl");
    }
    if (deviceKey(keys, "vnc").value_or("0") != "0")
        return DisplayMode::VncDom0;
    if (deviceKey(keys, "sdl").value_or("0") != "0")
        return DisplayMode::Sdl;
    return std::nullopt;
}

struct Listen {
    std::string address;
    std::optional<unsigned> display; // from "IP:DISPLAY"
};

// "IP" or "IPv4:DISPLAY", as libxl accepts vnclisten.
Listen splitListen(const std::string& text) {
    if (isIpLiteral(text))
        return {text, std::nullopt};
    auto colon = text.rfind(':');
    if (colon != std::string::npos && text.find(':') == colon && colon + 1 < text.size() &&
        std::all_of(text.begin() + static_cast<long>(colon) + 1, text.end(),
                    [](char c) { return c >= '0' && c <= '9'; }))
        // Clamped, not truncated: a huge number must stay huge so stubVncDisplay refuses it.
        return {text.substr(0, colon), static_cast<unsigned>(std::min<unsigned long>(
                                           std::strtoul(text.c_str() + colon + 1, nullptr, 10),
                                           std::numeric_limits<unsigned>::max()))};
    return {text, std::nullopt};
}

// The display number of the stub's VNC server: vnclisten's ":N", else vncdisplay, else 0.
// 5900 + N is the TCP port, so N beyond 65535 - 5900 names no port (and would overflow
// the port's int32 for a large N).
unsigned stubVncDisplay(const Listen& listen, const std::string& listenWhere,
                        const GuestDisplayConfig& guest) {
    constexpr unsigned kMaxDisplay = 65535 - kVncBasePort;
    auto check = [](unsigned display, const std::string& where) {
        if (display > kMaxDisplay)
            refuse(where + ": VNC display " + std::to_string(display) +
                   " is not a port: 5900 + the display must stay within 65535, so at most " +
                   std::to_string(kMaxDisplay));
        return display;
    };
    if (listen.display)
        return check(*listen.display, listenWhere + ": vnclisten");
    if (guest.vncdisplay)
        return check(*guest.vncdisplay, guest.where("vncdisplay"));
    return 0;
}

// The stub domain's VNC server listens on its own Mini-OS network stack.
void checkStubListen(const std::string& address, const std::string& where) {
    if (!isIpLiteral(address))
        refuse(where + ": vnclisten " + quoted(address) +
               " is not an IP address; Mini-OS has no name resolver, so the stub domain "
               "needs the address itself (e.g. \"172.30.206.1\")");
    if (isLoopback(address))
        refuse(where + ": vnclisten " + quoted(address) +
               " is a loopback address: inside the stub domain nobody could connect to it; "
               "use the IP address of the stub's reserved first vif");
}

std::string vifSource(const StubSpec& stub) {
    return stub.sourceFile + ": vif";
}

// vnc-stubdom: the listen address, checked against the reserved first vif (or filled
// into it when `fill`), and the vifs for the generated config.
std::vector<std::string> reservedVifFor(const StubSpec& stub, const std::string& address,
                                        bool fill) {
    if (stub.vifs.empty())
        refuse(vifSource(stub) +
               ": VNC in the stub domain needs the reserved first vif, e.g. vif = [ 'ip=" +
               address + "', ... ]; there is no vif list");
    DeviceKeys first = parseDeviceString(stub.vifs.front());
    std::vector<std::string> vifs = stub.vifs;
    auto ip = deviceKey(first, "ip");
    if (fill) {
        setDeviceKey(first, "ip", address);
        vifs.front() = formatDeviceString(first);
        return vifs;
    }
    if (!ip)
        refuse(vifSource(stub) + ": the reserved first vif " + quoted(stub.vifs.front()) +
               " has no ip=; fill it with ip=" + address + " (the guest's vnclisten)");
    if (*ip != address)
        refuse(vifSource(stub) + ": the reserved first vif has ip=" + *ip +
               ", which does not match vnclisten " + quoted(address) +
               "; the stub's VNC server can only listen on its own address");
    return vifs;
}

void checkPort(std::int32_t port, DisplayMode mode) {
    if (port == -1) {
        if (mode != DisplayMode::VncDom0)
            refuse("SetDisplay: port -1 (the next free port) only applies to vnc-dom0; in the "
                   "stub domain the port is 5900 + the display number");
        return;
    }
    if (port < kVncBasePort || port > 65535)
        refuse("SetDisplay: port " + std::to_string(port) +
               " is not a VNC port (5900 + display, up to 65535; -1 for the next free one)");
}

// qemu's keymap names (en-us, de-ch, ...) are a few letters; a long one is no keymap,
// and it would end up in the stub domain's config and its xenstore nodes.
constexpr std::size_t kMaxKeymapLength = 32;

void checkKeymap(const std::string& keymap, const std::string& where) {
    bool plain = !keymap.empty() && keymap.size() <= kMaxKeymapLength &&
                 std::all_of(keymap.begin(), keymap.end(), [](char c) {
                     return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_';
                 });
    if (!plain)
        refuse(where + ": keymap " + quoted(keymap) + " is not a keymap name (e.g. en-us, de)");
}

// SDL draws on an X display in dom0: from the vfb, else the daemon's environment,
// written into the vfb so the backend xl starts gets it whatever its environment.
void addSdlDisplay(DeviceKeys& vfb, const DisplayEnvironment& env, const std::string& where) {
    if (!deviceKey(vfb, "display")) {
        if (!env.display || env.display->empty())
            refuse(where + ": vfb type=sdl needs an X display, but neither the vfb's display= "
                           "nor stubdomd's environment (DISPLAY, XAUTHORITY) names one; set "
                           "display=:0 (and xauthority=) in the vfb, or use vnc-dom0");
        setDeviceKey(vfb, "display", *env.display);
    }
    if (!deviceKey(vfb, "xauthority") && env.xauthority && !env.xauthority->empty())
        setDeviceKey(vfb, "xauthority", *env.xauthority);
}

const GuestDisplayConfig kNoGuestConfig{};

DisplayPlan fromChoice(const StubSpec& stub, const GuestDisplayConfig& guest,
                       const DisplayChoice& choice, const DisplayEnvironment& env,
                       const std::optional<DeviceKeys>& stubVfb,
                       std::optional<DisplayMode> stubVfbMode) {
    const std::string what = "SetDisplay " + std::string(toString(choice.mode));
    if (choice.port)
        checkPort(*choice.port, choice.mode);
    if (choice.keymap)
        checkKeymap(*choice.keymap, what);
    if (choice.address && !isIpLiteral(*choice.address))
        refuse(what + ": address " + quoted(*choice.address) + " is not an IP address");
    if ((choice.address || choice.port) && choice.mode != DisplayMode::VncStubdom &&
        choice.mode != DisplayMode::VncDom0)
        refuse(what + ": address and port only apply to vnc-stubdom and vnc-dom0");

    DisplayPlan plan;
    plan.mode = choice.mode;
    plan.vifs = stub.vifs;
    switch (choice.mode) {
    case DisplayMode::None:
        break;
    case DisplayMode::Sdl: {
        DeviceKeys vfb = stubVfbMode == DisplayMode::Sdl ? *stubVfb : DeviceKeys{{"type", "sdl"}};
        addSdlDisplay(vfb, env, what);
        plan.vfbs = {formatDeviceString(vfb)};
        break;
    }
    case DisplayMode::VncDom0: {
        DeviceKeys vfb =
            stubVfbMode == DisplayMode::VncDom0 ? *stubVfb : DeviceKeys{{"type", "vnc"}};
        if (choice.address)
            setDeviceKey(vfb, "vnclisten", *choice.address);
        if (choice.port && *choice.port == -1) {
            setDeviceKey(vfb, "vncunused", "1");
            eraseDeviceKey(vfb, "vncdisplay");
        } else if (choice.port) {
            setDeviceKey(vfb, "vncdisplay", std::to_string(*choice.port - kVncBasePort));
            setDeviceKey(vfb, "vncunused", "0");
        }
        if (choice.keymap)
            setDeviceKey(vfb, "keymap", *choice.keymap);
        plan.address = deviceKey(vfb, "vnclisten").value_or("127.0.0.1");
        plan.portFromStore = true;
        plan.passwordInConfig = deviceKey(vfb, "vncpasswd").has_value();
        plan.vfbs = {formatDeviceString(vfb)};
        break;
    }
    case DisplayMode::VncStubdom: {
        Listen listen;
        std::string where = what;
        if (choice.address) {
            listen.address = *choice.address;
        } else if (guest.vnclisten) {
            listen = splitListen(*guest.vnclisten);
            where = guest.where("vnclisten");
        } else if (!stub.vifs.empty()) {
            auto ip = deviceKey(parseDeviceString(stub.vifs.front()), "ip");
            if (ip) {
                listen.address = *ip;
                where = vifSource(stub);
            }
        }
        if (listen.address.empty())
            refuse(what + ": VNC in the stub domain needs an address: give one, or set "
                          "vnclisten in the guest's config or ip= in the stub's first vif");
        checkStubListen(listen.address, where);
        plan.vifs = reservedVifFor(stub, listen.address, true);
        unsigned display = choice.port ? static_cast<unsigned>(*choice.port - kVncBasePort)
                                       : stubVncDisplay(listen, where, guest);
        plan.address = listen.address;
        plan.port = kVncBasePort + static_cast<std::int32_t>(display);
        plan.deviceModel.vnc = listen.address + ":" + std::to_string(display);
        plan.deviceModel.keymap = choice.keymap ? choice.keymap : guest.keymap;
        plan.ioemuPassword = guest.vncpasswd;
        break;
    }
    }
    plan.deviceModel.videoRamMiB = guest.videoramMiB;
    return plan;
}

} // namespace

std::string GuestDisplayConfig::where(const std::string& key) const {
    auto line = lines.find(key);
    return line == lines.end() ? source : source + ":" + std::to_string(line->second);
}

bool isIpLiteral(const std::string& text) {
    unsigned char buffer[16];
    return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
           inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

bool isLoopback(const std::string& ip) {
    unsigned char buffer[16];
    if (inet_pton(AF_INET, ip.c_str(), buffer) == 1)
        return buffer[0] == 127;
    if (inet_pton(AF_INET6, ip.c_str(), buffer) == 1) {
        static const unsigned char loopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        // ::ffff:127.x.x.x is IPv4's loopback too.
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        return std::equal(buffer, buffer + 16, loopback6) ||
               (std::equal(buffer, buffer + 12, mapped) && buffer[12] == 127);
    }
    return false;
}

DeviceKeys parseDeviceString(const std::string& text) {
    DeviceKeys keys;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t comma = text.find(',', start);
        std::string item =
            text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        auto begin = item.find_first_not_of(" \t");
        auto end = item.find_last_not_of(" \t");
        item = begin == std::string::npos ? "" : item.substr(begin, end - begin + 1);
        if (!item.empty()) {
            auto eq = item.find('=');
            if (eq == std::string::npos)
                keys.emplace_back(item, "");
            else
                keys.emplace_back(item.substr(0, eq), item.substr(eq + 1));
        }
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
    return keys;
}

std::string formatDeviceString(const DeviceKeys& keys) {
    std::string out;
    for (const auto& [key, value] : keys) {
        if (!out.empty())
            out += ',';
        out += key + "=" + value;
    }
    return out;
}

std::optional<std::string> deviceKey(const DeviceKeys& keys, const std::string& key) {
    // xl takes the last of repeated keys.
    for (auto it = keys.rbegin(); it != keys.rend(); ++it)
        if (it->first == key)
            return it->second;
    return std::nullopt;
}

void setDeviceKey(DeviceKeys& keys, const std::string& key, const std::string& value) {
    eraseDeviceKey(keys, key);
    keys.emplace_back(key, value);
}

void eraseDeviceKey(DeviceKeys& keys, const std::string& key) {
    keys.erase(std::remove_if(keys.begin(), keys.end(),
                              [&key](const auto& item) { return item.first == key; }),
               keys.end());
}

std::string displayUri(DisplayMode mode, const std::string& address, std::int32_t port) {
    if ((mode != DisplayMode::VncStubdom && mode != DisplayMode::VncDom0) || address.empty() ||
        port < 0)
        return "";
    bool v6 = address.find(':') != std::string::npos;
    return "vnc://" + (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

StubSpec withDisplay(const StubSpec& spec, const DisplayPlan& plan) {
    StubSpec out = spec;
    out.vifs = plan.vifs;
    out.vfbs = plan.vfbs;
    return out;
}

DisplayPlan planDisplay(const DisplayInputs& in) {
    const StubSpec& stub = *in.stub;
    const GuestDisplayConfig& guest = in.guest ? *in.guest : kNoGuestConfig;

    if (stub.vfbs.size() > 1)
        refuse(stub.sourceFile + ": vfb: a stub domain shows one display, but " +
               std::to_string(stub.vfbs.size()) + " vfbs are given");
    std::optional<DeviceKeys> stubVfb;
    std::optional<DisplayMode> stubVfbMode;
    if (!stub.vfbs.empty()) {
        stubVfb = parseDeviceString(stub.vfbs.front());
        stubVfbMode = vfbMode(*stubVfb, stub.sourceFile);
    }
    if (guest.keymap)
        checkKeymap(*guest.keymap, guest.where("keymap"));

    if (in.choice)
        return fromChoice(stub, guest, *in.choice, in.environment, stubVfb, stubVfbMode);

    // The configs decide. A dom0 SDL window from the guest's own device model cannot
    // exist with a stub domain: the README's SDL set-up is a vfb in the stub config.
    if (guest.sdl.value_or(false))
        refuse(guest.where("sdl") +
               ": sdl = 1 asks for SDL from a device model in dom0; with "
               "a stub domain set sdl = 0 there and vfb = [ 'type=sdl' ] in " +
               stub.sourceFile);
    const bool guestVnc = guest.vnc.value_or(false);
    if (stubVfbMode && guestVnc)
        refuse(guest.where("vnc") + ": vnc = 1 asks for VNC served by the stub domain, but " +
               stub.sourceFile +
               ": vfb has type=" + (*stubVfbMode == DisplayMode::Sdl ? "sdl" : "vnc") +
               ", a display in dom0; set vnc = 0 and sdl = 0 in " + guest.source +
               " or remove the vfb");

    DisplayPlan plan;
    plan.vifs = stub.vifs;
    plan.deviceModel.videoRamMiB = guest.videoramMiB;
    if (stubVfbMode == DisplayMode::Sdl) {
        plan.mode = DisplayMode::Sdl;
        DeviceKeys vfb = *stubVfb;
        addSdlDisplay(vfb, in.environment, stub.sourceFile);
        plan.vfbs = {formatDeviceString(vfb)};
        return plan;
    }
    if (stubVfbMode == DisplayMode::VncDom0) {
        plan.mode = DisplayMode::VncDom0;
        plan.vfbs = stub.vfbs;
        plan.address = deviceKey(*stubVfb, "vnclisten").value_or("127.0.0.1");
        plan.portFromStore = true;
        plan.passwordInConfig = deviceKey(*stubVfb, "vncpasswd").has_value();
        if (auto keymap = deviceKey(*stubVfb, "keymap"))
            checkKeymap(*keymap, stub.sourceFile + ": vfb");
        return plan;
    }
    if (stubVfb) // a vfb of no type: xl would make a framebuffer nobody sees
        plan.vfbs = stub.vfbs;

    // No dom0 display: VNC in the stub domain when the guest asks for it, or when the
    // guest does not say and the reserved vif carries an address.
    std::optional<std::string> reservedIp;
    if (!stub.vifs.empty())
        reservedIp = deviceKey(parseDeviceString(stub.vifs.front()), "ip");
    if (!guestVnc && (guest.vnc.has_value() || !reservedIp))
        return plan; // none
    Listen listen;
    std::string where;
    if (guest.vnclisten) {
        listen = splitListen(*guest.vnclisten);
        where = guest.where("vnclisten");
    } else if (reservedIp) {
        listen.address = *reservedIp;
        where = vifSource(stub) + ": the reserved first vif's ip=";
    } else {
        refuse(guest.where("vnc") +
               ": vnc = 1 serves VNC from the stub domain, which needs "
               "vnclisten = \"<IP>\" there and the same ip= in the first "
               "vif of " +
               stub.sourceFile);
    }
    checkStubListen(listen.address, where);
    plan.vifs = reservedVifFor(stub, listen.address, false);
    unsigned display = stubVncDisplay(listen, where, guest);
    plan.mode = DisplayMode::VncStubdom;
    plan.address = listen.address;
    plan.port = kVncBasePort + static_cast<std::int32_t>(display);
    plan.deviceModel.vnc = listen.address + ":" + std::to_string(display);
    plan.deviceModel.keymap = guest.keymap;
    plan.ioemuPassword = guest.vncpasswd;
    return plan;
}

} // namespace stubdomd
