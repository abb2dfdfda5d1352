// Plain values the client hands out: one struct per object kind of the API, holding
// every property of its interface (org.xen.Stubdom.Guest, org.xen.Stubdom.Helper).
#pragma once

#include "stubdom-client/Export.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace stubdom {

// Method calls wait this long by default: Start and Attach reply only once the stub
// domain runs, and the daemon's own start timeout is 30 s, so leave room for queueing.
using Timeout = std::chrono::milliseconds;
inline constexpr Timeout kDefaultTimeout{std::chrono::seconds(60)};

struct GuestInfo {
    std::string path; // the daemon's object path; use it as it is, never rebuild it
    std::string name;
    std::string uuid;
    std::uint32_t domid = 0;
    std::uint32_t stubDomid = 0; // 0: no stub domain
    std::string state;           // pending … running, paused, stopped, failed, unmanaged
    std::string stateReason;
    std::string flavour;
    std::string displayMode;
    std::string displayAddress;
    std::int32_t displayPort = -1;
    std::uint32_t restarts = 0;
    std::string lastError;
    std::uint64_t stubMemoryMiB = 0; // the running stub's memory, or the next one's; 0: none
    // Sampled only while someone holds Client::watchResources' descriptor of the guest.
    std::uint64_t stubMemoryUsedKiB = 0; // the stub's pages in KiB
    std::uint64_t stubCpuTimeNs = 0;     // its vCPU time
};

// Guest.Start's and Guest.Restart's options; an unset one is not sent.
struct StartOptions {
    // The stub domain's memory as a stub config writes it ("500M", "1G", "300" = MiB), for
    // this start and the automatic restarts after it, until the next start, restart or reload.
    std::optional<std::string> stubMemory;
};

// What Guest.GetDisplay answers: how to reach the guest's display. Never the password.
struct DisplayInfo {
    std::string mode;    // none, sdl, vnc-stubdom, vnc-dom0
    std::string address; // empty when unknown
    std::int32_t port = -1;
    bool passwordSet = false;
    std::string uri; // vnc://ADDRESS:PORT; empty unless a VNC mode with a known port
};

// What Guest.OpenConsole hands over: a pseudo-terminal bridged by stubdomd to a console of the
// guest. fd is its master, the caller's to close (read what the console prints, write what
// is typed); path names its slave, which stubdomd holds.
struct ConsolePty {
    int fd = -1;
    std::string path;
};

// Guest.SetDisplay's options; an unset one is not sent.
struct DisplayOptions {
    std::optional<std::string> address; // an IP address
    std::optional<std::int32_t> port;   // 5900 + display; -1: the next free one (vnc-dom0)
    std::optional<std::string> keymap;
};

// Manager.Attach's options: the display settings the toolstack gave the device model.
struct AttachOptions {
    std::optional<bool> vnc;
    std::optional<std::string> vnclisten; // ADDR or ADDR:DISPLAY
    std::optional<std::uint32_t> vncdisplay;
    std::optional<bool> vncunused;
    std::optional<bool> sdl;
    std::optional<std::string> keymap;
    std::optional<std::uint32_t> videoram; // MiB
};

struct HelperInfo {
    std::string path;
    std::string name;
    std::string state; // running, restarting, failed, stopped, disabled
    std::uint32_t mainPid = 0;
    std::uint32_t restarts = 0;
    std::string lastExit;
};

STUBDOM_CLIENT_API bool operator==(const GuestInfo& a, const GuestInfo& b);
inline bool operator!=(const GuestInfo& a, const GuestInfo& b) {
    return !(a == b);
}

} // namespace stubdom
