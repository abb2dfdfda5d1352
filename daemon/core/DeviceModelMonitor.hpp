// The monitor of a device model that speaks QMP (upstream qemu in a Linux stub domain),
// as the engine sees it: open the dom0 end of its channel when the stub domain is
// linked, close it with the stub domain, and ask it about the display. How (a
// vchan-socket-proxy and a QMP client on the event loop) is daemon/qmp's business.
#pragma once

#include "Errors.hpp"
#include "GuestService.hpp" // Completion
#include "Types.hpp"

#include <functional>
#include <optional>
#include <string>

namespace stubdomd {

// query-vnc's answer: whether qemu serves VNC, and where ("host" and "service" are
// strings in QMP: an address and a port number).
struct VncEndpoint {
    bool enabled = false;
    std::string host;
    std::string service;
};

class DeviceModelMonitor {
public:
    using VncDone = std::function<void(const std::optional<Error>& error, const VncEndpoint& vnc)>;
    virtual ~DeviceModelMonitor() = default;

    // The stub domain `stub` serving guest `guest` (named `guestName`, for logs) now
    // exists: start the dom0 end of its QMP channel. Throws Error(SpawnFailed) when it
    // cannot be started. Opening again replaces what was open for the guest.
    virtual void open(const std::string& guestName, DomId guest, DomId stub) = 0;
    // Stops it and removes its socket; a no-op for a guest without one.
    virtual void close(DomId guest) = 0;

    // Each call either throws Error at once or calls `done` exactly once, later, from
    // the event loop; within the configured QMP timeout.
    virtual void queryVnc(DomId guest, VncDone done) = 0;
    virtual void setVncPassword(DomId guest, const std::string& password, Completion done) = 0;

    // The dom0 end of the guest's display channel: a unix socket whose connections reach
    // the VNC server of the stub's qemu over a second vchan (device-model/<guest>/vnc-vchan,
    // which the stub's init serves). Its proxy starts at the first call and goes with the
    // channel. Throws Error: InvalidState when the guest has no channel, SpawnFailed when
    // the proxy cannot run (or kept dying), NotSupported when the monitor has no displays.
    virtual std::string displaySocket(DomId guest) {
        (void)guest;
        throw Error(ErrorCode::NotSupported, "this device model monitor carries no display");
    }
};

} // namespace stubdomd
