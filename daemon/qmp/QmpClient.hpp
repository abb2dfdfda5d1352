// One QMP conversation with a device model over a unix socket, on the event loop:
// connect, wait for the greeting ({"QMP": ...}), negotiate with qmp_capabilities, run
// the commands in order, hang up. Asynchronous events are skipped. Nothing blocks: the
// socket is non-blocking, the whole conversation has one deadline, and a line longer
// than the limit ends it.
//
// One connection per conversation, as libxl does: vchan-socket-proxy serves one client
// at a time, so a connection held open would lock out the toolstack's own QMP users.
#pragma once

#include "loop/EventLoop.hpp"
#include "loop/UniqueFd.hpp"
#include "qmp/JsonLines.hpp"
#include "qmp/QmpError.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stubdomd {

struct QmpCommand {
    std::string name;                                    // "query-vnc"
    nlohmann::json arguments = nlohmann::json::object(); // sent only when not empty
};

struct QmpLimits {
    std::chrono::milliseconds timeout{5000}; // from connect to the last reply
    std::size_t maxLine = 64 * 1024;         // one QMP message
    // A socket that is not there yet (the proxy starting) is tried again this often
    // until the deadline.
    std::chrono::milliseconds connectRetry{100};
};

class QmpClient {
public:
    // `returns` holds each command's "return" value, in order, when `error` is unset.
    using Done = std::function<void(const std::optional<QmpError>& error,
                                    const std::vector<nlohmann::json>& returns)>;

    // `loop` must outlive the client.
    QmpClient(EventLoop& loop, QmpLimits limits);
    // Hangs up; `done` of a conversation in progress is not called.
    ~QmpClient();
    QmpClient(const QmpClient&) = delete;
    QmpClient& operator=(const QmpClient&) = delete;

    // Starts a conversation; `done` is called exactly once, from the loop (never from
    // inside run()). The client may be destroyed from inside `done`. One conversation
    // at a time: run() while busy() is an Error(Internal).
    void run(const std::string& socketPath, std::vector<QmpCommand> commands, Done done);
    bool busy() const { return static_cast<bool>(done_); }

private:
    enum class Phase { Connecting, Greeting, Negotiating, Commands };

    void tryConnect();
    void onReadable(short revents);
    void handleLine(const std::string& line);
    void sendNext();
    void flush();
    void finish(std::optional<QmpError> error);
    QmpError connectTimedOut() const;
    std::string where() const; // "after the greeting", "in reply to query-vnc"

    EventLoop& loop_;
    QmpLimits limits_;
    std::string path_;
    std::vector<QmpCommand> commands_;
    std::vector<nlohmann::json> returns_;
    Done done_;
    Phase phase_ = Phase::Connecting;
    UniqueFd fd_;
    JsonLines lines_;
    std::string output_;   // not yet written
    std::size_t next_ = 0; // index of the command awaiting its reply
    Clock::time_point deadline_{};
    Timers::TimerId deadlineTimer_ = 0;
    Timers::TimerId retryTimer_ = 0;
    std::string lastConnectError_;
    std::shared_ptr<char> life_ = std::make_shared<char>(); // expires with the client
};

} // namespace stubdomd
