// The toolstack command (xl by default) as the core sees it. Every call is
// asynchronous: the adapter runs a child process and calls `done` from the event
// loop when it exits. Nothing here blocks.
#pragma once

#include "Types.hpp"

#include <functional>
#include <string>

namespace stubdomd {

struct ToolResult {
    int exitStatus = 0; // the exit code, or 128 + signal number
    std::string output; // stdout
    std::string errors; // stderr, kept for the guest's StateReason and the log
    bool ok() const { return exitStatus == 0; }
};

class Toolstack {
public:
    using Done = std::function<void(const ToolResult&)>;
    virtual ~Toolstack() = default;

    // `xl create [-p] CONFIG`
    virtual void create(const std::string& configPath, bool paused, Done done) = 0;
    // `xl domid NAME`; the domid is the first line of output on success.
    virtual void domid(const std::string& name, Done done) = 0;
    virtual void unpause(DomId domid, Done done) = 0;
    virtual void destroy(DomId domid, Done done) = 0;
    // How many commands are running now (for the max_parallel_spawns bound).
    virtual unsigned running() const = 0;
};

} // namespace stubdomd
