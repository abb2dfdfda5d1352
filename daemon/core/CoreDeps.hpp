// What the engine is given of the host: its adapters (DESIGN.md section 2) and the few
// dom0 checks it needs. The facade hands one to each component that talks to the host.
#pragma once

#include "Hypervisor.hpp"
#include "Store.hpp"
#include "StubSpec.hpp"
#include "Timers.hpp"
#include "Toolstack.hpp"

#include <functional>
#include <string>

namespace stubdomd {

struct CoreDeps {
    Store& store;
    Hypervisor& hypervisor;
    Toolstack& toolstack;
    Timers& timers;
    StubSpecSource& specs;
    // Writes a generated stub-domain config; throws Error on failure.
    std::function<void(const std::string& path, const std::string& content)> writeFile;
    // The command name of a dom0 process, "" if there is none: the check that a guest
    // has no device model in dom0 already.
    std::function<std::string(long pid)> processName;
    // Whether root can read a file: the Linux stub's kernel and rootfs are checked before
    // a spawn, as libxl does (access(R_OK)). Unset: no check.
    std::function<bool(const std::string& path)> fileReadable;
};

} // namespace stubdomd
