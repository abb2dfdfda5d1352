#include "dbus/server/LogindSleep.hpp"

#include "core/Log.hpp"
#include "dbus/Names.hpp"

#include <sdbus-c++/Error.h>
#include <sdbus-c++/Message.h>

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

} // namespace

LogindSleep::LogindSleep(sdbus::IConnection& connection, PrepareForSleep prepare, Started started)
    // By reference: the proxy shares the daemon's connection and loop.
    : logind_(sdbus::createProxy(connection, kLogindBusName, kLogindPath)),
      prepare_(std::move(prepare)), started_(std::move(started)) {
    // dbus-daemon matches a well-known sender against whoever owns it when the signal is
    // sent, so this match outlives a restart of logind.
    sleepMatch_ = connection.addMatch(
        matchRule(kLogindBusName, kLogindPath, kLogindInterface, "PrepareForSleep"),
        [this](sdbus::Message& message) {
            bool sleeping = false;
            try {
                message >> sleeping;
            } catch (const sdbus::Error& e) {
                logWarning({}, "logind's PrepareForSleep without its boolean: " + e.getMessage());
                return;
            }
            prepare_(sleeping);
        });
    ownerMatch_ =
        connection.addMatch(matchRule("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                      "org.freedesktop.DBus", "NameOwnerChanged", kLogindBusName),
                            [this](sdbus::Message& message) {
                                std::string name, oldOwner, newOwner;
                                try {
                                    message >> name >> oldOwner >> newOwner;
                                } catch (const sdbus::Error&) {
                                    return;
                                }
                                if (name == kLogindBusName)
                                    ownerChanged(oldOwner, newOwner);
                            });
}

LogindSleep::~LogindSleep() = default;

void LogindSleep::hold() {
    wanted_ = true;
    if (!fd_ && !asking_)
        inhibit();
}

void LogindSleep::release() {
    wanted_ = false;
    if (fd_)
        logInfo({}, "letting the host sleep (logind delay inhibitor released)");
    fd_.reset();
}

void LogindSleep::inhibit() {
    asking_ = true;
    auto onReply = [this](const sdbus::Error* error, sdbus::UnixFd fd) {
        // From sdbus's dispatch: nothing but sdbus::Error may escape.
        asking_ = false;
        if (error) {
            const bool absent = error->getName() == "org.freedesktop.DBus.Error.ServiceUnknown" ||
                                error->getName() == "org.freedesktop.DBus.Error.NameHasNoOwner";
            if (!absent) {
                logWarning({}, "logind refused the sleep delay inhibitor (" + error->getName() +
                                   ": " + error->getMessage() +
                                   "); the host may sleep without pausing stub domains");
            } else if (!toldAbsent_) {
                toldAbsent_ = true;
                logInfo({}, "logind is not on the bus: host sleep will not pause stub domains "
                            "until it comes");
            }
            return;
        }
        if (!wanted_ || fd_)
            return; // released meanwhile, or taken twice: closing this one drops it
        fd_ = std::move(fd);
        logInfo({}, "holding logind's sleep delay inhibitor");
    };
    try {
        logind_->callMethodAsync("Inhibit")
            .onInterface(kLogindInterface)
            .withArguments(std::string("sleep"), std::string(kWho), std::string(kWhy),
                           std::string("delay"))
            .uponReplyInvoke(std::move(onReply));
    } catch (const sdbus::Error& e) {
        asking_ = false;
        logWarning({}, "cannot ask logind for a sleep delay inhibitor: " + e.getMessage());
    }
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
        if (wanted_ && !fd_ && !asking_)
            inhibit();
    }
}

} // namespace stubdomd::dbus
