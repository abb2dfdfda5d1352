// logind's side of host sleep (org.freedesktop.login1.Manager), on the daemon's own
// connection: the delay inhibitor for "sleep" (core's SleepInhibitor) and the
// PrepareForSleep signal, handed to a callback (HostSleep::prepareForSleep). logind
// leaving the bus ends the inhibitor it gave; when it comes back, a wanted inhibitor is
// taken again. Without logind the daemon says so once and goes on.
#pragma once

#include "core/HostSleep.hpp"
#include "dbus/server/SdBusHandles.hpp"
#include "loop/UniqueFd.hpp"

#include <functional>
#include <string>

namespace stubdomd::dbus {

class LogindSleep final : public SleepInhibitor {
public:
    using PrepareForSleep = std::function<void(bool sleeping)>;
    using Started = std::function<void()>;
    // `bus` must outlive this; `prepare` (PrepareForSleep) and `started` (logind came
    // onto the bus) run from the connection's dispatch.
    LogindSleep(sd_bus* bus, PrepareForSleep prepare, Started started);
    ~LogindSleep() override;
    LogindSleep(const LogindSleep&) = delete;
    LogindSleep& operator=(const LogindSleep&) = delete;

    // SleepInhibitor
    void hold() override;
    void release() override;

    // For tests and the log: whether logind's inhibitor fd is held now.
    bool held() const { return static_cast<bool>(fd_); }

private:
    static int onPrepareForSleep(sd_bus_message* m, void* userdata, sd_bus_error* error);
    static int onOwnerChanged(sd_bus_message* m, void* userdata, sd_bus_error* error);
    static int onInhibit(sd_bus_message* m, void* userdata, sd_bus_error* error);
    void inhibit();
    void inhibited(sd_bus_message* reply);
    void ownerChanged(const std::string& oldOwner, const std::string& newOwner);

    sd_bus* bus_;
    PrepareForSleep prepare_;
    Started started_;
    SdSlot sleepMatch_;
    SdSlot ownerMatch_;
    SdSlot inhibitCall_;      // the Inhibit call on its way; dropped with this
    UniqueFd fd_;             // closing it lets the sleep go on
    bool wanted_ = false;     // hold() until release()
    bool toldAbsent_ = false; // "logind is not on the bus" logged already
};

} // namespace stubdomd::dbus
