// The QMP channel of a Linux stub domain's device model: opened when the stub domain is
// linked (or adopted), closed whenever the guest's stub domain ends or changes.
#include "core/DeviceModelChannel.hpp"

#include "core/XenPaths.hpp"

namespace stubdomd {

void DeviceModelChannel::open(const std::string& guestName, DomId guest, DomId stub) {
    if (!monitor_)
        return;
    monitor_->open(guestName, guest, stub);
    open_[guest] = Open{stub, false};
}

void DeviceModelChannel::setPasswordAuth(DomId guest, bool passwordAuth) {
    if (auto it = open_.find(guest); it != open_.end())
        it->second.passwordAuth = passwordAuth;
}

void DeviceModelChannel::close(DomId guest, const LogFields& fields) {
    auto it = open_.find(guest);
    if (it == open_.end() || !monitor_)
        return;
    const DomId stub = it->second.stub;
    open_.erase(it);
    monitor_->close(guest);
    // The proxy's --state-path lives under dom0's device-model directory of the stub.
    try {
        store_.remove(paths::legacyDeviceModel(stub));
    } catch (const Error& e) {
        logWarning(fields, std::string("cleaning the QMP proxy's state: ") + e.what());
    }
}

DomId DeviceModelChannel::stubOf(DomId guest) const {
    auto it = open_.find(guest);
    return it == open_.end() ? 0 : it->second.stub;
}

bool DeviceModelChannel::passwordAuth(DomId guest) const {
    auto it = open_.find(guest);
    return it != open_.end() && it->second.passwordAuth;
}

} // namespace stubdomd
