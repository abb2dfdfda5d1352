// How the supervisor starts a helper's process and learns of its end: an interface so
// that the supervisor's state machine runs in unit tests with a fake, and the real
// ChildLauncher (child processes on the event loop) in the daemon.
#pragma once

#include "config/Settings.hpp"
#include "core/Errors.hpp"

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

namespace stubdomd {

class HelperProcess {
public:
    // Destroying a process that still runs kills (SIGKILL) and reaps it, without
    // calling its exit callback: no zombie whatever path drops it.
    virtual ~HelperProcess() = default;
    virtual pid_t pid() const = 0;
    virtual void signal(int signo) = 0;
};

// The process could not be started; `err` is the errno (ENOENT: no such program).
class LaunchError : public Error {
public:
    LaunchError(int err, const std::string& message)
        : Error(ErrorCode::SpawnFailed, message), err_(err) {}
    int err() const noexcept { return err_; }

private:
    int err_;
};

class HelperLauncher {
public:
    // `how` is "exited with status N" or "killed by signal N".
    using Exited = std::function<void(const std::string& how)>;
    virtual ~HelperLauncher() = default;
    // Starts the helper's program with its arguments; `exited` runs once, from the
    // loop, after the process is reaped. Throws LaunchError.
    virtual std::unique_ptr<HelperProcess> launch(const HelperSettings& helper, Exited exited) = 0;
};

} // namespace stubdomd
