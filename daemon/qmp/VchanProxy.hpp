// Xen's vchan-socket-proxy for one Linux stub domain, as libxl 4.17 runs it
// (spawn_qmp_proxy in libxl_dm.c):
//
//   vchan-socket-proxy --state-path=/local/domain/0/device-model/<stub>/qmp-proxy-state
//       <stub> /local/domain/<stub>/device-model/<guest>/qmp-vchan <socket>
//
// In its default client mode it listens on <socket> and, per accepted connection,
// connects to the vchan the stub's qemu serves. A child of the daemon: output logged
// as "<channel>-proxy-<guest name>", restarted with backoff when it dies (RestartPolicy),
// killed and reaped when this object goes, its socket removed.
//
// The same program carries a Linux stub's display (channel "vnc"): the stub's init
// serves its qemu's VNC socket at device-model/<guest>/vnc-vchan beside qmp-vchan, and
// that proxy has no state path (libxl has no such proxy, and nothing reads its state).
#pragma once

#include "core/Types.hpp"
#include "loop/ChildProcess.hpp"
#include "loop/EventLoop.hpp"
#include "loop/RestartPolicy.hpp"

#include <memory>
#include <string>
#include <vector>

namespace stubdomd {

struct VchanProxyParams {
    std::string program;   // the vchan-socket-proxy binary
    std::string guestName; // for the log
    DomId guest = 0;
    DomId stub = 0;
    std::string socketPath; // where it listens in dom0
    // The vchan's node under /local/domain/<stub>/device-model/<guest>/ ("qmp-vchan"), and
    // the name of the channel in logs and messages ("qmp", "vnc").
    std::string channel = "qmp";
    // --state-path=/local/domain/0/device-model/<stub>/qmp-proxy-state, as libxl: only
    // the QMP proxy has one.
    bool statePath = true;
};

class VchanProxy {
public:
    // Starts the proxy; throws LaunchError (SpawnFailed) when it cannot be run.
    VchanProxy(EventLoop& loop, VchanProxyParams params);
    ~VchanProxy();
    VchanProxy(const VchanProxy&) = delete;
    VchanProxy& operator=(const VchanProxy&) = delete;

    std::vector<std::string> argv() const;
    bool running() const { return static_cast<bool>(process_); }
    pid_t pid() const { return process_ ? process_->pid() : 0; }
    // "" while it runs; else how it ended, and whether it was given up on.
    const std::string& lastExit() const { return lastExit_; }
    bool gaveUp() const { return gaveUp_; }

private:
    std::string label() const; // "QMP proxy", "vnc proxy"
    void launch();
    void exited(const std::string& how);

    EventLoop& loop_;
    VchanProxyParams params_;
    RestartPolicy policy_;
    std::unique_ptr<ChildProcess> process_;
    Timers::TimerId restartTimer_ = 0;
    std::string lastExit_;
    bool gaveUp_ = false;
};

} // namespace stubdomd
