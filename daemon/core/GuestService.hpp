// The core's face towards the D-Bus layer: queries, commands with asynchronous
// completion, and change notifications. Implemented by GuestManager; the D-Bus
// adaptors depend only on this header.
#pragma once

#include "DisplaySettings.hpp"
#include "Errors.hpp"
#include "GuestView.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace stubdomd {

class GuestObserver {
public:
    virtual ~GuestObserver() = default;
    // Called once the guest's view is complete (announce it then, not before).
    virtual void guestAdded(const GuestView& guest) = 0;
    // `fields` is a GuestField mask of what changed since the last notification.
    virtual void guestChanged(const GuestView& guest, std::uint32_t fields) = 0;
    virtual void guestRemoved(const GuestView& guest) = 0;
    // The guest's stub domain died on its own (not stopped, not with its guest): `cause`
    // is "oom", "qemu-exited", "crashed", "shutdown" or "destroyed", `message` what
    // LastError now says. Observers that do not care need not listen.
    virtual void stubFailed(const GuestView& /*guest*/, const std::string& /*cause*/,
                            const std::string& /*message*/) {}
    // A client of OpenDisplay connected to the guest's display (`connected`) or left;
    // `clients` is how many it has now.
    virtual void displayClientChanged(const GuestView& /*guest*/, bool /*connected*/,
                                      unsigned /*clients*/) {}
};

// Completion of a slow command: nullopt on success, or the error to report.
using Completion = std::function<void(const std::optional<Error>& error)>;

// Start's and Restart's options. stubMemoryMiB: the stub domain's memory for this start and
// the restart policy's starts after it, until the next Start, Restart or Reload (unset: the
// stub config's); below the flavour's minimum it is Error(InvalidArgs).
struct StartOptions {
    std::optional<std::uint64_t> stubMemoryMiB;
};

class GuestService {
public:
    virtual ~GuestService() = default;

    virtual std::vector<GuestView> guests() const = 0;
    // By name or uuid; nullopt when unknown.
    virtual std::optional<GuestView> findGuest(const std::string& nameOrUuid) const = 0;
    // By the guest's or its stub domain's domid.
    virtual std::optional<GuestView> findGuestByDomid(DomId domid) const = 0;

    // Each command either throws Error at once (unknown guest, wrong state) or
    // accepts and later calls `done` exactly once from the event loop: Start and
    // Attach when the stub domain runs or fails, Stop when it is gone.
    virtual void start(const std::string& uuid, Completion done) = 0;
    virtual void stop(const std::string& uuid, Completion done) = 0;
    virtual void restart(const std::string& uuid, Completion done) = 0;
    // The same with options; the defaults refuse any option, for services without them.
    virtual void startWith(const std::string& uuid, const StartOptions& options, Completion done);
    virtual void restartWith(const std::string& uuid, const StartOptions& options, Completion done);
    // Manage this HVM domain now (stubdom-dm); the guest's uuid is returned through
    // `done` having been called and findGuestByDomid then succeeding.
    virtual void attach(DomId domid, Completion done) = 0;
    // Re-read stubdomd.json-independent configuration (the stub configs).
    virtual void reload() = 0;
    // Pause: the guest, then its stub domain (state paused); Resume: the stub domain,
    // then the guest (running again). Error(InvalidState) unless the guest is running,
    // respectively paused. Both are quick hypercalls: `done` is called before they
    // return. The defaults refuse, for services without pause control.
    virtual void pause(const std::string& uuid, Completion done);
    virtual void resume(const std::string& uuid, Completion done);

    // Display control (Display.hpp). setDisplay checks the choice against the guest's
    // configs at once and stores it for the next start of its stub domain (Restart
    // applies it); a broken rule throws Error(InvalidDisplay) and nothing is stored.
    // setDisplayPassword stores the VNC password for the next start; it is never logged
    // or shown. The defaults refuse, for services without display control.
    virtual void setDisplay(const std::string& uuid, const DisplayChoice& choice);
    virtual void setDisplayPassword(const std::string& uuid, const std::string& password);
    // GetDisplay and SetDisplayPassword as slow calls: a device model that speaks QMP is
    // asked (query-vnc) or told (change-vnc-password) while it runs. Each either throws
    // Error at once or calls `done` exactly once (possibly before returning). The
    // defaults answer from the view and the synchronous setDisplayPassword.
    using DisplayDone =
        std::function<void(const std::optional<Error>& error, const GuestView& view)>;
    virtual void getDisplay(const std::string& uuid, DisplayDone done);
    virtual void setDisplayPassword(const std::string& uuid, const std::string& password,
                                    Completion done) {
        setDisplayPassword(uuid, password);
        done(std::nullopt);
    }
    // attach() with the display settings the toolstack gave stubdom-dm.
    virtual void attachWithDisplay(DomId domid, const GuestDisplayConfig& toolstack,
                                   Completion done) {
        (void)toolstack;
        attach(domid, std::move(done));
    }

    // The file a guest's stub consoles are logged to (with its rotated `.1`); throws
    // Error(NoSuchGuest), or Error(NotSupported) when consoles are not logged.
    virtual std::string consoleLog(const std::string& uuid) const;
    // A read-only descriptor following that log (ConsoleLogs::openFollower), owned by the
    // caller; throws Error as consoleLog, or Error(Busy) when no more can be made.
    virtual int followConsoleLog(const std::string& uuid);

    // OpenDisplay: a socket relayed to where the guest's display is served (DisplayLinks).
    // Throws Error at once (NoSuchGuest; InvalidDisplay for a mode with nothing to connect
    // to; InvalidState while nothing serves it; Busy; NotSupported) or calls `done` once.
    using DisplayOpened = std::function<void(const std::optional<Error>& error, int fd)>;
    virtual void openDisplay(const std::string& uuid, DisplayOpened done);

    // OpenConsole: a PTY bridged to the guest's console `name` (kConsoleSerial0 read-write,
    // kConsoleStub read-only; ConsoleLinks). The master's fd (the caller's) and the slave's
    // path. Throws Error: InvalidArgs (unknown name), NoSuchGuest, InvalidState (no stub
    // domain, or its console not there yet), Busy, NotSupported.
    struct ConsoleOpened {
        int fd = -1;
        std::string path;
    };
    virtual ConsoleOpened openConsole(const std::string& uuid, const std::string& name);

    // Someone listens to the guest's StubMemoryUsedKiB and StubCpuTimeNs (watch), or one
    // listener fewer (unwatch): they are sampled from the hypervisor at most once a second
    // while the guest has a listener, and changes notified; never without one. watch throws
    // Error(NoSuchGuest); unwatch of a guest that went away is a no-op. The defaults refuse.
    virtual void watchResources(const std::string& uuid);
    virtual void unwatchResources(const std::string& uuid) { (void)uuid; }

    virtual void addObserver(GuestObserver& observer) = 0;
    virtual void removeObserver(GuestObserver& observer) = 0;
};

inline void GuestService::setDisplay(const std::string&, const DisplayChoice&) {
    throw Error(ErrorCode::NotSupported, "display control is not supported");
}
inline void GuestService::setDisplayPassword(const std::string&, const std::string&) {
    throw Error(ErrorCode::NotSupported, "display control is not supported");
}
inline void GuestService::pause(const std::string&, Completion) {
    throw Error(ErrorCode::NotSupported, "pausing guests is not supported");
}
inline void GuestService::resume(const std::string&, Completion) {
    throw Error(ErrorCode::NotSupported, "pausing guests is not supported");
}
inline void GuestService::startWith(const std::string& uuid, const StartOptions& options,
                                    Completion done) {
    if (options.stubMemoryMiB)
        throw Error(ErrorCode::NotSupported, "stub-memory is not supported");
    start(uuid, std::move(done));
}
inline void GuestService::restartWith(const std::string& uuid, const StartOptions& options,
                                      Completion done) {
    if (options.stubMemoryMiB)
        throw Error(ErrorCode::NotSupported, "stub-memory is not supported");
    restart(uuid, std::move(done));
}
inline void GuestService::watchResources(const std::string&) {
    throw Error(ErrorCode::NotSupported, "resource sampling is not supported");
}
inline std::string GuestService::consoleLog(const std::string&) const {
    throw Error(ErrorCode::NotSupported, "stub consoles are not logged");
}
inline int GuestService::followConsoleLog(const std::string&) {
    throw Error(ErrorCode::NotSupported, "stub consoles are not logged");
}
inline GuestService::ConsoleOpened GuestService::openConsole(const std::string&,
                                                             const std::string&) {
    throw Error(ErrorCode::NotSupported, "opening consoles is not supported");
}
inline void GuestService::openDisplay(const std::string&, DisplayOpened) {
    throw Error(ErrorCode::NotSupported, "opening displays is not supported");
}
inline void GuestService::getDisplay(const std::string& uuid, DisplayDone done) {
    auto view = findGuest(uuid);
    if (!view)
        throw Error(ErrorCode::NoSuchGuest, "no guest with uuid " + uuid);
    done(std::nullopt, *view);
}

} // namespace stubdomd
