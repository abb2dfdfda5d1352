// logind's side of host sleep (org.freedesktop.login1.Manager), on the daemon's own
// connection: the delay inhibitor for "sleep" (core's SleepInhibitor) and the
// PrepareForSleep signal, handed to a callback (HostSleep::prepareForSleep). logind
// leaving the bus ends the inhibitor it gave; when it comes back, a wanted inhibitor is
// taken again. Without logind the daemon says so once and goes on.
#pragma once

#include "core/HostSleep.hpp"

#include <sdbus-c++/IConnection.h>
#include <sdbus-c++/IProxy.h>
#include <sdbus-c++/Types.h>

#include <functional>
#include <memory>
#include <optional>

namespace stubdomd::dbus {

class LogindSleep final : public SleepInhibitor {
public:
    using PrepareForSleep = std::function<void(bool sleeping)>;
    using Started = std::function<void()>;
    // `connection` must outlive this; `prepare` (PrepareForSleep) and `started` (logind
    // came onto the bus) run from the connection's dispatch.
    LogindSleep(sdbus::IConnection& connection, PrepareForSleep prepare, Started started);
    ~LogindSleep() override;
    LogindSleep(const LogindSleep&) = delete;
    LogindSleep& operator=(const LogindSleep&) = delete;

    // SleepInhibitor
    void hold() override;
    void release() override;

    // For tests and the log: whether logind's inhibitor fd is held now.
    bool held() const { return fd_.has_value(); }

private:
    void inhibit();
    void ownerChanged(const std::string& oldOwner, const std::string& newOwner);

    std::unique_ptr<sdbus::IProxy> logind_;
    PrepareForSleep prepare_;
    Started started_;
    sdbus::Slot sleepMatch_;
    sdbus::Slot ownerMatch_;
    std::optional<sdbus::UnixFd> fd_; // closing it lets the sleep go on
    bool wanted_ = false;             // hold() until release()
    bool asking_ = false;             // an Inhibit call is on its way
    bool toldAbsent_ = false;         // "logind is not on the bus" logged already
};

} // namespace stubdomd::dbus
