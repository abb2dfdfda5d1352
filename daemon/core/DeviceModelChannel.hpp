// The QMP channels of Linux stub domains' device models, one per guest: opened when the
// stub domain is linked (or adopted), closed whenever the guest's stub domain ends or
// changes. A component with its own state — which stub each open channel serves, and
// whether its qemu started with VNC password auth — over the DeviceModelMonitor adapter.
#pragma once

#include "DeviceModelMonitor.hpp"
#include "Log.hpp"
#include "Store.hpp"
#include "Types.hpp"

#include <map>
#include <string>

namespace stubdomd {

class DeviceModelChannel {
public:
    explicit DeviceModelChannel(Store& store) : store_(store) {}
    DeviceModelChannel(const DeviceModelChannel&) = delete;
    DeviceModelChannel& operator=(const DeviceModelChannel&) = delete;

    // The monitor must outlive the channel. Without one, no channel is ever open.
    void setMonitor(DeviceModelMonitor& monitor) { monitor_ = &monitor; }
    bool available() const { return monitor_ != nullptr; }
    // Whether a guest of this flavour gets a channel: only a Linux stub domain's upstream
    // qemu speaks QMP, and only when there is a monitor.
    bool serves(Flavour flavour) const { return available() && flavour == Flavour::Linux; }
    DeviceModelMonitor& monitor() { return *monitor_; }

    // Opens the channel of `stub`, serving `guest`. Throws Error(SpawnFailed) as the
    // monitor does, and then nothing is open. Without a monitor, nothing happens.
    void open(const std::string& guestName, DomId guest, DomId stub);
    // Whether the guest's qemu was started with -vnc ...,password=on: only then does it
    // take a password over QMP. Kept with the open channel, forgotten when it closes.
    void setPasswordAuth(DomId guest, bool passwordAuth);
    // Closes the guest's channel and removes the proxy's state node; a failure to remove
    // it is logged with `fields`. A guest without an open channel is left as it is.
    void close(DomId guest, const LogFields& fields);
    // The stub whose channel is open for the guest; 0 when none is.
    DomId stubOf(DomId guest) const;
    bool passwordAuth(DomId guest) const;

private:
    struct Open {
        DomId stub = 0;
        bool passwordAuth = false;
    };
    Store& store_;
    DeviceModelMonitor* monitor_ = nullptr;
    std::map<DomId, Open> open_; // by guest domid
};

} // namespace stubdomd
