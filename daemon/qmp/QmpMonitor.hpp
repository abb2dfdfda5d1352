// DeviceModelMonitor over QMP: per Linux stub domain a VchanProxy listening on
// <qmp_socket_dir>/qmp-libxl-<guest domid> (libxl's name for a guest's QMP socket),
// and a fresh QmpClient conversation for each question. The display's VchanProxy
// (<qmp_socket_dir>/vnc-stubdomd-<guest domid>) starts when the display is first opened:
// most stubs are never looked at, and a proxy costs a process and a socket.
#pragma once

#include "core/DeviceModelMonitor.hpp"
#include "loop/EventLoop.hpp"
#include "qmp/QmpClient.hpp"
#include "qmp/VchanProxy.hpp"

#include <list>
#include <map>
#include <memory>
#include <string>

namespace stubdomd {

struct QmpMonitorSettings {
    std::string proxyProgram; // vchan_socket_proxy
    std::string socketDir;    // qmp_socket_dir
    QmpLimits limits;         // qmp_timeout_ms
};

class QmpMonitor final : public DeviceModelMonitor {
public:
    // Conversations in flight per guest; more is Busy (the proxy serves one at a time,
    // so a queue behind a stalled device model would only time out).
    static constexpr unsigned maxConversations = 4;

    // `loop` must outlive the monitor.
    QmpMonitor(EventLoop& loop, QmpMonitorSettings settings);
    // Stops every proxy; conversations in flight end without their callbacks.
    ~QmpMonitor() override;

    void open(const std::string& guestName, DomId guest, DomId stub) override;
    void close(DomId guest) override;
    void queryVnc(DomId guest, VncDone done) override;
    void setVncPassword(DomId guest, const std::string& password, Completion done) override;
    std::string displaySocket(DomId guest) override;

    std::string socketPath(DomId guest) const;
    std::string displaySocketPath(DomId guest) const;

private:
    using Answer = std::function<void(const std::optional<QmpError>& error,
                                      const std::vector<nlohmann::json>& returns)>;
    struct Channel {
        std::string guestName;
        DomId stub = 0;
        std::unique_ptr<VchanProxy> proxy;
        std::unique_ptr<VchanProxy> display; // started by the first displaySocket()
        unsigned conversations = 0;
    };
    void converse(DomId guest, std::vector<QmpCommand> commands, Answer answer);

    EventLoop& loop_;
    QmpMonitorSettings settings_;
    std::map<DomId, Channel> channels_; // by guest domid
    std::list<std::unique_ptr<QmpClient>> clients_;
};

} // namespace stubdomd
