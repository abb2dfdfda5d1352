// The face of the helper supervisor (fs-backend and later others) towards the
// D-Bus layer, shaped like GuestService: a snapshot query, commands with
// asynchronous completion, and change notifications. The supervisor that
// implements it comes with its own issue; until then only test fakes do.
#pragma once

#include "Errors.hpp"
#include "GuestService.hpp" // Completion

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stubdomd {

// The strings are the D-Bus `State` values of org.xen.Stubdom.Helper.
enum class HelperState {
    Running,
    Restarting, // waiting out its backoff before the next start
    Failed,     // gave up restarting
    Stopped,    // by a Stop command; stays so until Start
    Disabled,   // by configuration
};

// Inline rather than in Names.cpp so that this facade stays one self-contained header.
inline std::string_view toString(HelperState state) {
    switch (state) {
    case HelperState::Running:
        return "running";
    case HelperState::Restarting:
        return "restarting";
    case HelperState::Failed:
        return "failed";
    case HelperState::Stopped:
        return "stopped";
    case HelperState::Disabled:
        return "disabled";
    }
    return "?";
}

struct HelperView {
    std::string name; // e.g. "fs-backend"; unique, [A-Za-z0-9_-]+
    HelperState state = HelperState::Stopped;
    std::uint32_t mainPid = 0; // 0: no process
    std::uint32_t restarts = 0;
    std::string lastExit; // "exited with status 1", "killed by signal 9"; empty if none
};

// Which properties a change touched (one PropertiesChanged with exactly those).
enum HelperField : std::uint32_t {
    HelperFieldName = 1u << 0,
    HelperFieldState = 1u << 1,
    HelperFieldMainPid = 1u << 2,
    HelperFieldRestarts = 1u << 3,
    HelperFieldLastExit = 1u << 4,
};

class HelperObserver {
public:
    virtual ~HelperObserver() = default;
    // `fields` is a HelperField mask of what changed since the last notification.
    virtual void helperChanged(const HelperView& helper, std::uint32_t fields) = 0;
};

class HelperService {
public:
    virtual ~HelperService() = default;

    // The set of helpers comes from stubdomd.json, read once at start: it is fixed
    // for the daemon's life (so there is no added/removed notification).
    virtual std::vector<HelperView> helpers() const = 0;

    // Each command either throws Error at once or accepts and later calls `done`
    // exactly once from the event loop: start when the process runs (a running
    // helper: at once, success), stop when it is gone (a stopped one: at once),
    // restart when the new process runs. An unknown name throws
    // Error(ErrorCode::InvalidArgs, "no helper named '<name>'") — a helper is not a
    // guest, so NoSuchGuest would mislead; over D-Bus the object of an unknown helper
    // does not exist anyway, so this only happens to a caller holding a stale name.
    virtual void start(const std::string& name, Completion done) = 0;
    virtual void stop(const std::string& name, Completion done) = 0;
    virtual void restart(const std::string& name, Completion done) = 0;

    virtual void addObserver(HelperObserver& observer) = 0;
    virtual void removeObserver(HelperObserver& observer) = 0;
};

} // namespace stubdomd
