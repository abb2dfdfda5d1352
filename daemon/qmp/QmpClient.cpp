#include "qmp/QmpClient.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

namespace stubdomd {

namespace {

// For messages: enough of what the peer sent to recognise it, never a whole megabyte.
std::string excerpt(const std::string& text) {
    constexpr std::size_t kMax = 80;
    return text.size() <= kMax ? text : text.substr(0, kMax) + "...";
}

std::string seconds(std::chrono::milliseconds ms) {
    const auto count = ms.count();
    std::string text = std::to_string(count / 1000);
    if (count % 1000)
        text += "." + std::to_string(count % 1000 / 100);
    return text + " s";
}

} // namespace

QmpClient::QmpClient(EventLoop& loop, QmpLimits limits)
    : loop_(loop), limits_(limits), lines_(limits.maxLine) {}

QmpClient::~QmpClient() {
    if (fd_)
        loop_.removeFd(fd_.get());
    loop_.cancel(deadlineTimer_);
    loop_.cancel(retryTimer_);
}

void QmpClient::run(const std::string& socketPath, std::vector<QmpCommand> commands, Done done) {
    if (busy())
        throw Error(ErrorCode::Internal, "QMP: a conversation with " + path_ + " is in progress");
    path_ = socketPath;
    commands_ = std::move(commands);
    returns_.clear();
    done_ = std::move(done);
    phase_ = Phase::Connecting;
    lines_ = JsonLines(limits_.maxLine);
    output_.clear();
    next_ = 0;
    lastConnectError_.clear();
    deadline_ = loop_.now() + limits_.timeout;
    deadlineTimer_ = loop_.after(limits_.timeout, [this] {
        deadlineTimer_ = 0;
        if (phase_ == Phase::Connecting)
            finish(connectTimedOut());
        else
            finish(QmpError(QmpFailure::Timeout, "no answer on " + path_ + " within " +
                                                     seconds(limits_.timeout) + " (" + where() +
                                                     ")"));
    });
    // Through the loop, so that `done` never runs inside run().
    retryTimer_ = loop_.after(std::chrono::milliseconds(0), [this] {
        retryTimer_ = 0;
        tryConnect();
    });
}

void QmpClient::tryConnect() {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path_.size() >= sizeof(address.sun_path)) {
        finish(QmpError(QmpFailure::Connect, "QMP socket path too long: " + path_));
        return;
    }
    std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        finish(QmpError(QmpFailure::Connect, std::string("socket: ") + std::strerror(errno)));
        return;
    }
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
        const int err = errno;
        lastConnectError_ = std::strerror(err);
        // Not there yet, or its backlog is full: the proxy may still be starting, or
        // serving another client.
        if (err == ENOENT || err == ECONNREFUSED || err == EAGAIN) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - loop_.now());
            if (left <= std::chrono::milliseconds(0)) {
                finish(connectTimedOut());
                return;
            }
            retryTimer_ = loop_.after(std::min(limits_.connectRetry, left), [this] {
                retryTimer_ = 0;
                tryConnect();
            });
            return;
        }
        finish(
            QmpError(QmpFailure::Connect, "cannot connect to " + path_ + ": " + lastConnectError_));
        return;
    }
    fd_ = std::move(fd);
    phase_ = Phase::Greeting;
    loop_.addFd(fd_.get(), POLLIN, [this](short revents) { onReadable(revents); });
}

void QmpClient::onReadable(short revents) {
    // `done` may destroy this client: look at `alive` after anything that can finish.
    std::weak_ptr<char> alive = life_;
    if (revents & POLLOUT) {
        flush();
        if (alive.expired() || !busy())
            return;
    }
    if (!(revents & (POLLIN | POLLHUP | POLLERR)))
        return;
    char chunk[4096];
    const ssize_t got = ::recv(fd_.get(), chunk, sizeof(chunk), 0);
    if (got < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        finish(QmpError(QmpFailure::Closed,
                        "reading " + path_ + " (" + where() + "): " + std::strerror(errno)));
        return;
    }
    if (got == 0) {
        finish(QmpError(QmpFailure::Closed, "the device model closed the QMP connection " + path_ +
                                                " (" + where() + ")"));
        return;
    }
    if (!lines_.append(chunk, static_cast<std::size_t>(got))) {
        finish(QmpError(QmpFailure::Protocol, "the device model sent a QMP message longer than " +
                                                  std::to_string(limits_.maxLine) + " bytes on " +
                                                  path_ + " (" + where() + ")"));
        return;
    }
    while (auto line = lines_.next()) {
        handleLine(*line);
        if (alive.expired() || !busy())
            return;
    }
}

void QmpClient::handleLine(const std::string& line) {
    nlohmann::json message = nlohmann::json::parse(line, nullptr, false);
    if (message.is_discarded() || !message.is_object()) {
        finish(QmpError(QmpFailure::Protocol, "the device model sent something that is not a "
                                              "QMP message on " +
                                                  path_ + " (" + where() + "): " + excerpt(line)));
        return;
    }
    if (phase_ == Phase::Greeting) {
        if (!message.contains("QMP")) {
            finish(QmpError(QmpFailure::Protocol,
                            "expected the QMP greeting on " + path_ + ", got: " + excerpt(line)));
            return;
        }
        phase_ = Phase::Negotiating;
        output_ += nlohmann::json{{"execute", "qmp_capabilities"}, {"id", 0}}.dump() + "\n";
        flush();
        return;
    }
    if (message.contains("event"))
        return; // asynchronous: nothing asked for it
    const std::size_t expected = phase_ == Phase::Negotiating ? 0 : next_ + 1;
    auto id = message.find("id");
    if (auto error = message.find("error"); error != message.end()) {
        // qemu answers a request it could not parse without an id; that is still the
        // answer to ours.
        if (id != message.end() && *id != expected) {
            finish(QmpError(QmpFailure::Protocol, "a QMP reply to a request never sent on " +
                                                      path_ + ": " + excerpt(line)));
            return;
        }
        std::string errorClass = "GenericError";
        std::string desc;
        if (error->is_object()) {
            if (auto c = error->find("class"); c != error->end() && c->is_string())
                errorClass = c->get<std::string>();
            if (auto d = error->find("desc"); d != error->end() && d->is_string())
                desc = d->get<std::string>();
        }
        const std::string command =
            phase_ == Phase::Negotiating ? "qmp_capabilities" : commands_[next_].name;
        finish(QmpError(QmpFailure::Command,
                        "QMP " + command + " failed: " + errorClass + ": " + excerpt(desc),
                        errorClass));
        return;
    }
    auto value = message.find("return");
    if (value == message.end() || id == message.end() || *id != expected) {
        finish(QmpError(QmpFailure::Protocol, "an unexpected QMP message on " + path_ + " (" +
                                                  where() + "): " + excerpt(line)));
        return;
    }
    if (phase_ == Phase::Negotiating)
        phase_ = Phase::Commands;
    else
        returns_.push_back(std::move(*value)), ++next_;
    sendNext();
}

void QmpClient::sendNext() {
    if (next_ == commands_.size()) {
        finish(std::nullopt);
        return;
    }
    nlohmann::json request{{"execute", commands_[next_].name}, {"id", next_ + 1}};
    if (!commands_[next_].arguments.empty())
        request["arguments"] = commands_[next_].arguments;
    output_ += request.dump() + "\n";
    flush();
}

void QmpClient::flush() {
    while (!output_.empty()) {
        // MSG_NOSIGNAL: a peer that hung up must cost an error, not a SIGPIPE.
        const ssize_t sent = ::send(fd_.get(), output_.data(), output_.size(), MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            finish(QmpError(QmpFailure::Closed,
                            "writing to " + path_ + " (" + where() + "): " + std::strerror(errno)));
            return;
        }
        output_.erase(0, static_cast<std::size_t>(sent));
    }
    loop_.modifyFd(fd_.get(), output_.empty() ? POLLIN : POLLIN | POLLOUT);
}

void QmpClient::finish(std::optional<QmpError> error) {
    if (fd_) {
        loop_.removeFd(fd_.get());
        fd_.reset();
    }
    loop_.cancel(deadlineTimer_);
    loop_.cancel(retryTimer_);
    deadlineTimer_ = retryTimer_ = 0;
    Done done = std::move(done_);
    done_ = nullptr;
    std::vector<nlohmann::json> returns = std::move(returns_);
    returns_.clear();
    done(error, returns); // last: it may destroy this client
}

QmpError QmpClient::connectTimedOut() const {
    return QmpError(QmpFailure::Timeout, "cannot connect to " + path_ + " within " +
                                             seconds(limits_.timeout) + ": " + lastConnectError_);
}

std::string QmpClient::where() const {
    switch (phase_) {
    case Phase::Connecting:
        return "connecting";
    case Phase::Greeting:
        return "waiting for the greeting";
    case Phase::Negotiating:
        return "in reply to qmp_capabilities";
    case Phase::Commands:
        return next_ < commands_.size() ? "in reply to " + commands_[next_].name
                                        : "after the last reply";
    }
    return "";
}

} // namespace stubdomd
