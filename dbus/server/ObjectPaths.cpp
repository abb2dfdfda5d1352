#include "dbus/server/ObjectPaths.hpp"

#include "core/Errors.hpp"
#include "dbus/Names.hpp"

#include <systemd/sd-bus.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace stubdomd::dbus {

std::string guestPath(const std::string& uuid) {
    char* raw = nullptr;
    int r = sd_bus_path_encode(kGuestPathPrefix, uuid.c_str(), &raw);
    std::unique_ptr<char, decltype(&std::free)> encoded(raw, &std::free);
    if (r < 0)
        throw Error(ErrorCode::Internal, "cannot encode an object path for uuid '" + uuid + "'");
    return encoded.get();
}

std::string helperPath(const std::string& name) {
    std::string path = std::string(kHelperPathPrefix) + "/";
    if (name.empty())
        return path + "_";
    for (unsigned char c : name) {
        bool plain =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (plain) {
            path += static_cast<char>(c);
        } else if (c == '-') {
            path += '_';
        } else {
            char hex[4];
            std::snprintf(hex, sizeof hex, "_%02x", c);
            path += hex;
        }
    }
    return path;
}

} // namespace stubdomd::dbus
