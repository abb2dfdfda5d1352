// What can go wrong talking QMP to a device model, as a typed Error whose code the
// D-Bus edge maps to a name: a peer that never answers is TimedOut; one that cannot be
// reached or breaks the protocol is SpawnFailed (its device model is not usable); a
// command qemu does not know is NotSupported; any other refusal of qemu is SpawnFailed
// with qemu's class and description in the message.
#pragma once

#include "core/Errors.hpp"

#include <string>

namespace stubdomd {

enum class QmpFailure {
    Connect,  // the socket is missing or nobody listens
    Timeout,  // no complete answer within the call's time
    Protocol, // not JSON, not an object, no greeting, a line over the limit, an unknown id
    Closed,   // the peer hung up before answering
    Command,  // qemu answered {"error": {"class": ..., "desc": ...}}
};

class QmpError : public Error {
public:
    QmpError(QmpFailure failure, const std::string& message, std::string errorClass = {})
        : Error(codeFor(failure, errorClass), message), failure_(failure),
          errorClass_(std::move(errorClass)) {}

    QmpFailure failure() const noexcept { return failure_; }
    // qemu's error class ("GenericError", "CommandNotFound"); empty unless Command.
    const std::string& errorClass() const noexcept { return errorClass_; }

private:
    static ErrorCode codeFor(QmpFailure failure, const std::string& errorClass) {
        if (failure == QmpFailure::Timeout)
            return ErrorCode::TimedOut;
        if (failure == QmpFailure::Command && errorClass == "CommandNotFound")
            return ErrorCode::NotSupported;
        return ErrorCode::SpawnFailed;
    }

    QmpFailure failure_;
    std::string errorClass_;
};

} // namespace stubdomd
