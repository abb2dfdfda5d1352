// The README's three display set-ups ("Display Configuration"), as pure rules: from the
// guest's config, its stub config and a choice made with SetDisplay, decide the mode,
// what the generated stub config and the device-model arguments carry, and where a
// client connects; or refuse with Error(InvalidDisplay) and a reason naming file and key.
//
//   sdl          guest vnc = 0, sdl = 0; stub vfb = [ 'type=sdl' ] (needs an X display)
//   vnc-stubdom  guest vnc = 1, vnclisten = "<IP>"; stub vif = [ 'ip=<IP>', ... ]: the
//                stub's ioemu serves VNC on its own reserved first vif, port 5900 + display
//   vnc-dom0     guest vnc = 0, sdl = 0; stub vfb = [ 'type=vnc', ... ]: the dom0 vfb
//                backend serves VNC, its port appears at /local/domain/<stub>/console/vnc-port
//   none         nothing to see
#pragma once

#include "core/DisplaySettings.hpp"
#include "core/StubConfigWriter.hpp"
#include "core/StubSpec.hpp"
#include "core/Types.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace stubdomd {

struct DisplayInputs {
    const StubSpec* stub = nullptr;            // required
    const GuestDisplayConfig* guest = nullptr; // the guest's config, when stubdomd has it
    const DisplayChoice* choice = nullptr;     // SetDisplay's, overrides the configs
    DisplayEnvironment environment;
};

struct DisplayPlan {
    DisplayMode mode = DisplayMode::None;
    std::vector<std::string> vifs;  // for the generated config: the reserved vif filled
    std::vector<std::string> vfbs;  // at most one, as the mode needs it
    DeviceModelOptions deviceModel; // -vnc / -k / -videoram for the stub's ioemu
    std::string address;            // where clients connect; empty for sdl and none
    std::int32_t port = -1;         // known in advance for vnc-stubdom; else -1
    bool portFromStore = false;     // vnc-dom0: read /local/domain/<stub>/console/vnc-port
    // A password the configs set: the guest's vncpasswd, written for the stub's ioemu
    // (vnc-stubdom); for vnc-dom0 the vfb's own vncpasswd travels in the vfb entry.
    std::optional<std::string> ioemuPassword;
    bool passwordInConfig = false;
};

// Throws Error(InvalidDisplay) with the rule that is broken.
DisplayPlan planDisplay(const DisplayInputs& inputs);

// The stub spec with the plan's vifs and vfbs, for writeStubConfig.
StubSpec withDisplay(const StubSpec& spec, const DisplayPlan& plan);

// "vnc://ADDRESS:PORT" (IPv6 in brackets) for a VNC mode with a known port, else "".
std::string displayUri(DisplayMode mode, const std::string& address, std::int32_t port);

// An IPv4 or IPv6 address literal (no host name, no port).
bool isIpLiteral(const std::string& text);
bool isLoopback(const std::string& ipLiteral);

// One xl device string ("type=vnc,vnclisten=127.0.0.1") as ordered key=value pairs.
using DeviceKeys = std::vector<std::pair<std::string, std::string>>;
DeviceKeys parseDeviceString(const std::string& text);
std::string formatDeviceString(const DeviceKeys& keys);
std::optional<std::string> deviceKey(const DeviceKeys& keys, const std::string& key);
void setDeviceKey(DeviceKeys& keys, const std::string& key, const std::string& value);
void eraseDeviceKey(DeviceKeys& keys, const std::string& key);

} // namespace stubdomd
