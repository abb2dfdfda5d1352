#include "qmp/VchanProxy.hpp"

#include "core/Log.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace stubdomd {

namespace {

// The proxy is a channel, not a service: a short backoff, and a limit after which
// QMP calls report it gone rather than a proxy that keeps dying.
HelperSettings proxyRestarts() {
    HelperSettings settings;
    settings.startLimitBurst = 5;
    settings.startLimitInterval = std::chrono::seconds(60);
    settings.restartDelay = std::chrono::milliseconds(500);
    settings.restartDelayMax = std::chrono::milliseconds(10000);
    return settings;
}

// The proxy binds its socket and fails when the path exists: one left by a proxy
// that was killed (or by the daemon's previous run) is removed first, as libxl's
// libxl__qmp_cleanup removes it after a stub domain.
void removeSocket(const std::string& path, const LogFields& fields) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        logWarning(fields, "cannot remove " + path + ": " + std::strerror(errno));
}

} // namespace

VchanProxy::VchanProxy(EventLoop& loop, VchanProxyParams params)
    : loop_(loop), params_(std::move(params)), policy_(proxyRestarts()) {
    launch();
}

VchanProxy::~VchanProxy() {
    loop_.cancel(restartTimer_);
    process_.reset(); // SIGKILL and reap: it holds no state worth a gentler end
    removeSocket(params_.socketPath, {params_.guestName, params_.guest, params_.stub, ""});
}

std::string VchanProxy::label() const {
    return params_.channel == "qmp" ? "QMP proxy" : params_.channel + " proxy";
}

std::vector<std::string> VchanProxy::argv() const {
    const std::string stub = std::to_string(params_.stub);
    std::vector<std::string> argv{params_.program};
    if (params_.statePath)
        argv.push_back("--state-path=/local/domain/0/device-model/" + stub + "/" + params_.channel +
                       "-proxy-state");
    argv.insert(argv.end(), {stub,
                             "/local/domain/" + stub + "/device-model/" +
                                 std::to_string(params_.guest) + "/" + params_.channel + "-vchan",
                             params_.socketPath});
    return argv;
}

void VchanProxy::launch() {
    removeSocket(params_.socketPath, {params_.guestName, params_.guest, params_.stub, ""});
    process_ =
        std::make_unique<ChildProcess>(loop_, params_.channel + "-proxy-" + params_.guestName,
                                       argv(), [this](const std::string& how) { exited(how); });
    policy_.started(loop_.now());
    lastExit_.clear();
}

void VchanProxy::exited(const std::string& how) {
    const LogFields fields{params_.guestName, params_.guest, params_.stub, ""};
    lastExit_ = how;
    process_.reset();
    policy_.exited(loop_.now());
    if (policy_.limitReached(loop_.now())) {
        gaveUp_ = true;
        logError(fields, "the " + label() + " " + how + " too often; not starting it again");
        return;
    }
    const auto delay = policy_.nextDelay();
    logWarning(fields, "the " + label() + " " + how + "; starting it again in " +
                           std::to_string(delay.count()) + " ms");
    restartTimer_ = loop_.after(delay, [this] {
        restartTimer_ = 0;
        try {
            launch();
        } catch (const Error& e) {
            gaveUp_ = true;
            lastExit_ = e.what();
            logError({params_.guestName, params_.guest, params_.stub, ""}, e.what());
        }
    });
}

} // namespace stubdomd
