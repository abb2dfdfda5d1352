#include "qmp/QmpMonitor.hpp"

#include "core/Log.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace stubdomd {

namespace {

// query-vnc returns {"enabled": bool, "host": str, "service": str, ...} (QAPI VncInfo);
// libxl takes the same three fields, and so do we.
std::optional<VncEndpoint> parseVncInfo(const nlohmann::json& info) {
    if (!info.is_object())
        return std::nullopt;
    auto enabled = info.find("enabled");
    if (enabled == info.end() || !enabled->is_boolean())
        return std::nullopt;
    VncEndpoint vnc;
    vnc.enabled = enabled->get<bool>();
    if (!vnc.enabled)
        return vnc;
    auto host = info.find("host");
    auto service = info.find("service");
    if (host == info.end() || !host->is_string() || service == info.end() || !service->is_string())
        return std::nullopt;
    vnc.host = host->get<std::string>();
    vnc.service = service->get<std::string>();
    return vnc;
}

} // namespace

QmpMonitor::QmpMonitor(EventLoop& loop, QmpMonitorSettings settings)
    : loop_(loop), settings_(std::move(settings)) {}

QmpMonitor::~QmpMonitor() {
    clients_.clear();
    channels_.clear();
}

std::string QmpMonitor::socketPath(DomId guest) const {
    return settings_.socketDir + "/qmp-libxl-" + std::to_string(guest);
}

std::string QmpMonitor::displaySocketPath(DomId guest) const {
    return settings_.socketDir + "/vnc-stubdomd-" + std::to_string(guest);
}

std::string QmpMonitor::displaySocket(DomId guest) {
    auto it = channels_.find(guest);
    if (it == channels_.end())
        throw Error(ErrorCode::InvalidState,
                    "the device model of domain " + std::to_string(guest) + " has no channel");
    Channel& channel = it->second;
    if (channel.display && channel.display->gaveUp())
        throw Error(ErrorCode::SpawnFailed, "the display proxy of guest " + channel.guestName +
                                                " is not running (" + channel.display->lastExit() +
                                                ")");
    if (!channel.display) {
        VchanProxyParams params{settings_.proxyProgram, channel.guestName, guest, channel.stub,
                                displaySocketPath(guest)};
        params.channel = "vnc";
        params.statePath = false;
        channel.display = std::make_unique<VchanProxy>(loop_, std::move(params));
        logInfo({channel.guestName, guest, channel.stub, ""},
                "display proxy started (pid " + std::to_string(channel.display->pid()) + ") on " +
                    displaySocketPath(guest));
    }
    return displaySocketPath(guest);
}

void QmpMonitor::open(const std::string& guestName, DomId guest, DomId stub) {
    close(guest);
    if (::mkdir(settings_.socketDir.c_str(), 0700) != 0 && errno != EEXIST)
        throw Error(ErrorCode::SpawnFailed, "cannot make the QMP socket directory " +
                                                settings_.socketDir + ": " + std::strerror(errno));
    Channel channel;
    channel.guestName = guestName;
    channel.stub = stub;
    channel.proxy = std::make_unique<VchanProxy>(
        loop_, VchanProxyParams{settings_.proxyProgram, guestName, guest, stub, socketPath(guest)});
    logInfo({guestName, guest, stub, ""}, "QMP proxy started (pid " +
                                              std::to_string(channel.proxy->pid()) + ") on " +
                                              socketPath(guest));
    channels_[guest] = std::move(channel);
}

void QmpMonitor::close(DomId guest) {
    auto it = channels_.find(guest);
    if (it == channels_.end())
        return;
    logInfo({it->second.guestName, guest, std::nullopt, ""}, "QMP proxy stopped");
    channels_.erase(it);
}

void QmpMonitor::converse(DomId guest, std::vector<QmpCommand> commands, Answer answer) {
    auto it = channels_.find(guest);
    if (it == channels_.end())
        throw Error(ErrorCode::InvalidState,
                    "the device model of domain " + std::to_string(guest) + " has no QMP channel");
    Channel& channel = it->second;
    if (channel.proxy->gaveUp())
        throw Error(ErrorCode::SpawnFailed, "the QMP proxy of guest " + channel.guestName +
                                                " is not running (" + channel.proxy->lastExit() +
                                                ")");
    if (channel.conversations >= maxConversations)
        throw Error(ErrorCode::Busy, "guest " + channel.guestName + " already has " +
                                         std::to_string(maxConversations) +
                                         " QMP calls in progress");
    ++channel.conversations;
    clients_.push_front(std::make_unique<QmpClient>(loop_, settings_.limits));
    auto client = clients_.begin();
    (*client)->run(socketPath(guest), std::move(commands),
                   [this, guest, client,
                    answer = std::move(answer)](const std::optional<QmpError>& error,
                                                const std::vector<nlohmann::json>& returns) {
                       // The channel may have been closed and reopened meanwhile; its
                       // count is only a bound, so a new channel starting at 0 is right.
                       if (auto ch = channels_.find(guest);
                           ch != channels_.end() && ch->second.conversations > 0)
                           --ch->second.conversations;
                       auto keep = std::move(*client); // destroyed when this callback ends
                       clients_.erase(client);
                       answer(error, returns);
                   });
}

void QmpMonitor::queryVnc(DomId guest, VncDone done) {
    converse(guest, {{"query-vnc", {}}},
             [done = std::move(done)](const std::optional<QmpError>& error,
                                      const std::vector<nlohmann::json>& returns) {
                 if (error) {
                     done(*error, {});
                     return;
                 }
                 auto vnc = parseVncInfo(returns.at(0));
                 if (!vnc) {
                     done(QmpError(QmpFailure::Protocol,
                                   "unexpected reply to QMP query-vnc: " + returns.at(0).dump()),
                          {});
                     return;
                 }
                 done(std::nullopt, *vnc);
             });
}

void QmpMonitor::setVncPassword(DomId guest, const std::string& password, Completion done) {
    // change-vnc-password, as libxl 4.17 sets a qemu-xen guest's password; qemu has had
    // it since 1.1, so every qemu of a Linux stub domain knows it.
    converse(guest, {{"change-vnc-password", {{"password", password}}}},
             [done = std::move(done)](const std::optional<QmpError>& error,
                                      const std::vector<nlohmann::json>&) {
                 if (error)
                     done(Error(*error));
                 else
                     done(std::nullopt);
             });
}

} // namespace stubdomd
