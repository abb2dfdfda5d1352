// The Manager's constant properties, given by main() (which knows the build and Xen).
#pragma once

#include <string>
#include <vector>

namespace stubdomd::dbus {

struct ServerInfo {
    std::string version;               // Version, e.g. "0.1.0"
    std::string xenVersion;            // XenVersion, e.g. "4.17.3"
    std::string toolstack;             // Toolstack, e.g. "/usr/sbin/xl"
    std::vector<std::string> features; // Features, e.g. {"ioemu", "attach"}
};

} // namespace stubdomd::dbus
