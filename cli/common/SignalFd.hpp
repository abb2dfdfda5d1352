// Signals as a descriptor to poll beside the bus (stubdomctl monitor, stubdom-dm): the
// exit is then a plain return from the loop, so destructors run and replies are sent.
#pragma once

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <initializer_list>
#include <system_error>

namespace stubdom::cli {

class SignalFd {
public:
    explicit SignalFd(std::initializer_list<int> signals) {
        sigemptyset(&mask_);
        for (int signal : signals) {
            sigaddset(&mask_, signal);
        }
        if (sigprocmask(SIG_BLOCK, &mask_, &old_) != 0) {
            throw std::system_error(errno, std::generic_category(), "sigprocmask");
        }
        fd_ = signalfd(-1, &mask_, SFD_CLOEXEC | SFD_NONBLOCK);
        if (fd_ < 0) {
            int error = errno;
            sigprocmask(SIG_SETMASK, &old_, nullptr);
            throw std::system_error(error, std::generic_category(), "signalfd");
        }
    }
    ~SignalFd() {
        // Consume what is pending, or unblocking would deliver it and kill us after all.
        while (take() != 0) {
        }
        close(fd_);
        sigprocmask(SIG_SETMASK, &old_, nullptr);
    }
    SignalFd(const SignalFd&) = delete;
    SignalFd& operator=(const SignalFd&) = delete;

    int fd() const { return fd_; }

    // The number of the signal that arrived, or 0 if none is pending.
    int take() {
        signalfd_siginfo info{};
        if (read(fd_, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) {
            return 0;
        }
        return static_cast<int>(info.ssi_signo);
    }

private:
    sigset_t mask_{};
    sigset_t old_{};
    int fd_ = -1;
};

} // namespace stubdom::cli
