#include "pvgrub/ThrowawayProcess.hpp"

#include "core/Errors.hpp"
#include "host/WriteAll.hpp"
#include "loop/UniqueFd.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace stubdomd::pvgrub {

namespace {

// What the child writes: one tag byte, then the result or the error.
constexpr char kResult = 'R';
constexpr char kError = 'E';   // then the ErrorCode as a number, '\n', the message
constexpr char kFailure = 'X'; // then the text of any other exception

[[noreturn]] void internal(const std::string& what, const std::string& why) {
    throw Error(ErrorCode::Internal, what + ": " + why);
}

[[noreturn]] void runChild(int fd, const std::function<std::string()>& work) {
    std::string message;
    try {
        message = kResult + work();
    } catch (const Error& e) {
        message = kError + std::to_string(static_cast<int>(e.code())) + '\n' + e.what();
    } catch (const std::exception& e) {
        message = kFailure + std::string(e.what());
    } catch (...) {
        message = kFailure + std::string("an exception that is not a std::exception");
    }
    // _exit: no atexit handlers, no stdio flush of buffers the daemon filled, no
    // destructors of the daemon's objects; and no leak report of what the work lost.
    ::_exit(writeAll(fd, message.data(), message.size()) ? 0 : 1);
}

// Kills and reaps the child on every path out of the parent's side.
class Child {
public:
    explicit Child(pid_t pid) : pid_(pid) {}
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            wait();
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    // The child's wait status.
    int wait() {
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
        return status;
    }

private:
    pid_t pid_;
};

std::string describe(int status) {
    if (WIFSIGNALED(status))
        return "its process was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
               strsignal(WTERMSIG(status)) + ")";
    return "its process exited with status " + std::to_string(WEXITSTATUS(status)) +
           " before it answered";
}

} // namespace

std::string runInThrowawayProcess(const std::string& what,
                                  const std::function<std::string()>& work) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) < 0)
        internal(what, std::string("pipe2: ") + std::strerror(errno));
    UniqueFd readEnd(fds[0]), writeEnd(fds[1]);

    const pid_t pid = ::fork();
    if (pid < 0)
        internal(what, std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        readEnd.reset();
        runChild(writeEnd.get(), work);
    }
    Child child(pid);
    writeEnd.reset(); // so that the read ends when the child does

    std::string answer;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(readEnd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            internal(what, std::string("read: ") + std::strerror(errno));
        if (n == 0)
            break;
        answer.append(buffer, static_cast<std::size_t>(n));
    }
    const int status = child.wait();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || answer.empty())
        internal(what, describe(status));

    const std::string body = answer.substr(1);
    switch (answer.front()) {
    case kResult:
        return body;
    case kError: {
        const auto newline = body.find('\n');
        const int code = std::atoi(body.substr(0, newline).c_str());
        if (newline == std::string::npos || code < 0 ||
            code > static_cast<int>(ErrorCode::Internal))
            internal(what, "its process answered in a form this daemon does not write");
        throw Error(static_cast<ErrorCode>(code), body.substr(newline + 1));
    }
    case kFailure:
        internal(what, body);
    default:
        internal(what, "its process answered in a form this daemon does not write");
    }
}

} // namespace stubdomd::pvgrub
