// libstubdom-client: the C++ API of stubdomd (org.xen.Stubdom on the system bus).
//
// A Client makes synchronous calls with a timeout and throws the typed errors of
// Errors.hpp. Events (guests added, removed, changed; the daemon going and coming) are
// delivered by processEvents(), never from a thread of ours, so a VM manager can put
// fd() into its own main loop. A Client is not thread-safe: use it from one thread.
#pragma once

#include "stubdom-client/Errors.hpp"
#include "stubdom-client/Export.hpp"
#include "stubdom-client/PvGrub.hpp"
#include "stubdom-client/Types.hpp"

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sdbus {
class IConnection;
}

namespace stubdom {

// What to give poll(2) to learn when processEvents() has work.
struct PollInfo {
    int fd = -1;
    short events = 0;
    int timeoutMs = -1; // -1: no deadline of the bus's own
};

class STUBDOM_CLIENT_API Client {
public:
    // Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS if set). Throws BusUnavailable.
    Client();
    // Uses the caller's connection, which must outlive the Client. The Client processes
    // it only inside processEvents() and its own calls; it never starts a thread.
    explicit Client(sdbus::IConnection& connection);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // The timeout of every call without an explicit one (default kDefaultTimeout).
    void setTimeout(Timeout timeout);
    Timeout timeout() const;

    // Whether org.xen.Stubdom has an owner right now (asks the bus, not the daemon).
    bool serviceRunning();

    // Manager properties.
    std::string version();
    std::string xenVersion();
    std::vector<std::string> features();
    std::string toolstack();

    // Every guest with all its properties, ordered by domid.
    std::vector<GuestInfo> listGuests();
    GuestInfo guest(const std::string& nameOrUuid); // NoSuchGuest
    GuestInfo guestByDomid(std::uint32_t domid);    // the guest's or its stub domain's
    GuestInfo guestAtPath(const std::string& path); // NoSuchGuest when it is gone

    // Lifecycle; each replies once the stub domain runs or is gone, or throws.
    void start(const std::string& nameOrUuid, std::optional<Timeout> timeout = {});
    void stop(const std::string& nameOrUuid, std::optional<Timeout> timeout = {});
    void restart(const std::string& nameOrUuid, std::optional<Timeout> timeout = {});
    // The same with options (StartOptions); InvalidArgs for a stub memory that is no size
    // or below the stub's minimum.
    void start(const std::string& nameOrUuid, const StartOptions& options,
               std::optional<Timeout> timeout = {});
    void restart(const std::string& nameOrUuid, const StartOptions& options,
                 std::optional<Timeout> timeout = {});
    // Pause the guest, then its stub domain (state paused); resume the stub domain, then
    // the guest. InvalidState when the guest is not running, respectively not paused.
    void pause(const std::string& nameOrUuid, std::optional<Timeout> timeout = {});
    void resume(const std::string& nameOrUuid, std::optional<Timeout> timeout = {});
    // Manage this HVM domain now; returns the guest once its stub domain runs.
    GuestInfo attach(std::uint32_t domid, std::optional<Timeout> timeout = {});
    // The same with the toolstack's display settings (unset options are not sent).
    GuestInfo attach(std::uint32_t domid, const AttachOptions& options,
                     std::optional<Timeout> timeout = {});
    // The same without blocking: `done` runs from processEvents() with the guest's
    // object path, or with an empty path and the typed error (an exception_ptr to rethrow).
    using AttachDone = std::function<void(const std::string& path, std::exception_ptr error)>;
    void attachAsync(std::uint32_t domid, AttachDone done, std::optional<Timeout> timeout = {});
    void attachAsync(std::uint32_t domid, const AttachOptions& options, AttachDone done,
                     std::optional<Timeout> timeout = {});
    // Stop by object path (what a watcher holds once it has the guest).
    void stopAtPath(const std::string& path, std::optional<Timeout> timeout = {});
    void reload(std::optional<Timeout> timeout = {});

    // PV-GRUB, reading only: the kernel and extra lines of a PV guest booting through
    // PV-GRUB, and the check of such a guest's xl config (an absolute path).
    PvGrubConfig pvGrubConfig(const PvGrubRequest& request);
    PvGrubReport pvGrubCheck(const std::string& path);

    // The last `lines` (1 to 10000) lines of the guest's stub console log, oldest first
    // (GetConsoleLog; AccessDenied unless root or polkit's org.xen.Stubdom.manage).
    std::vector<std::string> consoleLog(const std::string& nameOrUuid, std::uint32_t lines);
    // A read-only descriptor on which the stub console's new output arrives
    // (OpenConsoleLog); EOF when stubdomd cut it off. The caller owns and closes it.
    int followConsoleLog(const std::string& nameOrUuid);
    // Listen to the stub domain's memory in use and vCPU time (GuestInfo's stubMemoryUsedKiB,
    // stubCpuTimeNs; WatchResources): while the descriptor is open they are read at most
    // once a second and changes arrive through onGuestChanged. Close it to stop; the caller
    // owns it. Busy beyond 16 listeners of a guest.
    int watchResources(const std::string& nameOrUuid);

    // Display (InvalidDisplay when a choice breaks a rule or the mode has no password).
    DisplayInfo getDisplay(const std::string& nameOrUuid);
    // For the next start of the stub domain; restart() applies it.
    void setDisplay(const std::string& nameOrUuid, const std::string& mode,
                    const DisplayOptions& options = {}, std::optional<Timeout> timeout = {});
    // An empty password removes it. The password is sent, never kept or logged.
    void setDisplayPassword(const std::string& nameOrUuid, const std::string& password,
                            std::optional<Timeout> timeout = {});

    // A connected stream socket to the guest's display, speaking RFB (OpenDisplay, relayed
    // by stubdomd; AccessDenied unless root or polkit's org.xen.Stubdom.display): hand it to
    // a VNC client library (gtk-vnc's vnc_connection_open_fd, libvncclient). The caller
    // owns and closes it; closing it is leaving.
    int openDisplay(const std::string& nameOrUuid);
    // A pseudo-terminal bridged to the guest's console `console` (OpenConsole; AccessDenied
    // unless root or polkit's org.xen.Stubdom.manage): "serial0", the guest's first serial
    // port, read-write; "stub", the stub domain's own console, read-only. Raw: bytes pass
    // unchanged. Reading it gives EOF or EIO once the stub's console is gone; closing the
    // master is leaving.
    ConsolePty openConsole(const std::string& nameOrUuid, const std::string& console = "serial0");

    // Supervised helpers (fs-backend, …), ordered by name.
    std::vector<HelperInfo> helpers();
    HelperInfo helper(const std::string& name); // NoSuchHelper
    void helperStart(const std::string& name, std::optional<Timeout> timeout = {});
    void helperStop(const std::string& name, std::optional<Timeout> timeout = {});
    void helperRestart(const std::string& name, std::optional<Timeout> timeout = {});

    // Events. Register callbacks, then call watch() once: it subscribes and returns the
    // guests as they are (empty when the daemon is not running). After that the Client
    // keeps a copy of every guest, so a change is reported with the whole new GuestInfo;
    // when the daemon comes back it re-reads everything and reports only differences.
    using GuestCallback = std::function<void(const GuestInfo&)>;
    using GuestChangedCallback =
        std::function<void(const GuestInfo&, const std::vector<std::string>& changed)>;
    using ServiceCallback = std::function<void(bool running)>;
    void onGuestAdded(GuestCallback callback);
    void onGuestRemoved(GuestCallback callback); // with the guest's last known properties
    void onGuestChanged(GuestChangedCallback callback);
    void onServiceChanged(ServiceCallback callback);
    std::vector<GuestInfo> watch();

    // Event-loop integration: poll pollInfo() (or just fd() for reading), then call
    // processEvents(Timeout{0}). processEvents waits up to `timeout` for something to
    // happen, runs the callbacks of everything that did, and says whether anything did.
    int fd() const;
    PollInfo pollInfo() const;
    bool processEvents(Timeout timeout);

private:
    struct STUBDOM_CLIENT_LOCAL Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace stubdom
