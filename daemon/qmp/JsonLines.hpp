// QMP's framing: one JSON text per line. Collects what the socket gives and hands out
// whole lines, with a bound on a line's length so that a peer that sends megabytes
// without a newline costs at most that bound, not the daemon's memory.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace stubdomd {

class JsonLines {
public:
    explicit JsonLines(std::size_t maxLine) : maxLine_(maxLine) {}

    // Adds bytes as read. False when the line being collected is now longer than
    // maxLine: the stream cannot be trusted any more and the caller should hang up.
    bool append(const char* data, std::size_t size);
    // The next complete line without its "\n" (and a "\r" before it, as qemu sends
    // "\r\n"); empty lines are skipped. nullopt until a newline arrives.
    std::optional<std::string> next();

    std::size_t maxLine() const { return maxLine_; }

private:
    std::size_t maxLine_;
    std::string buffer_;
    std::size_t lineStart_ = 0; // where in buffer_ the unfinished line begins
};

} // namespace stubdomd
