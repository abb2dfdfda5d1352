#include "dbus/server/LogindSleep.hpp"

#include "core/Log.hpp"
#include "dbus/Names.hpp"
#include "dbus/server/Marshal.hpp"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace stubdomd::dbus {

namespace {

constexpr const char* kWho = "stubdomd";
constexpr const char* kWhy = "pausing stub domains with their guests";

std::string matchRule(const std::string& sender, const std::string& path,
                      const std::string& interface, const std::string& member,
                      const std::string& arg0 = "") {
    std::string rule = "type='signal',sender='" + sender + "',path='" + path + "',interface='" +
                       interface + "',member='" + member + "'";
    if (!arg0.empty())
        rule += ",arg0='" + arg0 + "'";
    return rule;
}

SdSlot addMatch(sd_bus* bus, const std::string& rule, sd_bus_message_handler_t callback,
                void* userdata) {
    sd_bus_slot* slot = nullptr;
    checked(sd_bus_add_match(bus, &slot, rule.c_str(), callback, userdata),
            "adding a match for logind");
    return SdSlot(slot);
}

} // namespace

LogindSleep::LogindSleep(sd_bus* bus, PrepareForSleep prepare, Started started)
    : bus_(bus), prepare_(std::move(prepare)), started_(std::move(started)) {
    // dbus-daemon matches a well-known sender against whoever owns it when the signal is
    // sent, so this match outlives a restart of logind.
    sleepMatch_ =
        addMatch(bus, matchRule(kLogindBusName, kLogindPath, kLogindInterface, "PrepareForSleep"),
                 &LogindSleep::onPrepareForSleep, this);
    ownerMatch_ = addMatch(bus,
                           matchRule("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "NameOwnerChanged", kLogindBusName),
                           &LogindSleep::onOwnerChanged, this);
}

LogindSleep::~LogindSleep() = default;

int LogindSleep::onPrepareForSleep(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto* self = static_cast<LogindSleep*>(userdata);
    int sleeping = 0;
    if (int r = sd_bus_message_read_basic(m, 'b', &sleeping); r <= 0) {
        logWarning({}, "logind's PrepareForSleep without its boolean");
        return 0;
    }
    self->prepare_(sleeping != 0);
    return 0;
}

int LogindSleep::onOwnerChanged(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto* self = static_cast<LogindSleep*>(userdata);
    const char* name = nullptr;
    const char* oldOwner = nullptr;
    const char* newOwner = nullptr;
    if (sd_bus_message_read(m, "sss", &name, &oldOwner, &newOwner) <= 0)
        return 0;
    if (std::string(name) == kLogindBusName)
        self->ownerChanged(oldOwner, newOwner);
    return 0;
}

void LogindSleep::hold() {
    wanted_ = true;
    if (!fd_ && !inhibitCall_)
        inhibit();
}

void LogindSleep::release() {
    wanted_ = false;
    if (fd_)
        logInfo({}, "letting the host sleep (logind delay inhibitor released)");
    fd_.reset();
}

void LogindSleep::inhibit() {
    sd_bus_slot* slot = nullptr;
    int r = sd_bus_call_method_async(bus_, &slot, kLogindBusName, kLogindPath, kLogindInterface,
                                     "Inhibit", &LogindSleep::onInhibit, this, "ssss", "sleep",
                                     kWho, kWhy, "delay");
    if (r < 0) {
        logWarning({}, std::string("cannot ask logind for a sleep delay inhibitor: ") +
                           std::strerror(-r));
        return;
    }
    inhibitCall_.reset(slot);
}

int LogindSleep::onInhibit(sd_bus_message* reply, void* userdata, sd_bus_error*) {
    static_cast<LogindSleep*>(userdata)->inhibited(reply);
    return 0;
}

void LogindSleep::inhibited(sd_bus_message* reply) {
    // sd-bus holds the slot while it runs this callback, so it may go now.
    inhibitCall_.reset();
    if (sd_bus_message_is_method_error(reply, nullptr)) {
        const sd_bus_error* error = sd_bus_message_get_error(reply);
        const std::string name = error && error->name ? error->name : "";
        const std::string message = error && error->message ? error->message : "";
        const bool absent = name == "org.freedesktop.DBus.Error.ServiceUnknown" ||
                            name == "org.freedesktop.DBus.Error.NameHasNoOwner";
        if (!absent) {
            logWarning({}, "logind refused the sleep delay inhibitor (" + name + ": " + message +
                               "); the host may sleep without pausing stub domains");
        } else if (!toldAbsent_) {
            toldAbsent_ = true;
            logInfo({}, "logind is not on the bus: host sleep will not pause stub domains "
                        "until it comes");
        }
        return;
    }
    int fd = -1;
    if (sd_bus_message_read_basic(reply, 'h', &fd) <= 0) {
        logWarning({}, "logind's Inhibit reply carries no file descriptor");
        return;
    }
    if (!wanted_ || fd_)
        return; // released meanwhile, or taken twice: the reply's descriptor goes with it
    // The reply owns its descriptor; the inhibitor is held by a duplicate of ours.
    fd_.reset(fcntl(fd, F_DUPFD_CLOEXEC, 3));
    if (!fd_) {
        logWarning({}, std::string("cannot keep logind's sleep delay inhibitor: ") +
                           std::strerror(errno));
        return;
    }
    logInfo({}, "holding logind's sleep delay inhibitor");
}

void LogindSleep::ownerChanged(const std::string& oldOwner, const std::string& newOwner) {
    if (!oldOwner.empty() && newOwner.empty()) {
        // Its inhibitors went with it; a new logind knows nothing of ours.
        fd_.reset();
        logWarning({}, "logind left the bus; its sleep delay inhibitor is gone");
        return;
    }
    if (!newOwner.empty()) {
        toldAbsent_ = false;
        logInfo({}, "logind is on the bus");
        started_();
        if (wanted_ && !fd_ && !inhibitCall_)
            inhibit();
    }
}

} // namespace stubdomd::dbus
