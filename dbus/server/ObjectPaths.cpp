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

std::optional<std::string> guestUuidOf(const char* path) {
    // sd_bus_path_decode takes any path below the prefix, the prefix itself (as "") and
    // deeper ones too: only one non-empty element below it is a guest's.
    const std::string prefix = std::string(kGuestPathPrefix) + "/";
    const std::string whole = path;
    if (whole.size() <= prefix.size() || whole.compare(0, prefix.size(), prefix) != 0 ||
        whole.find('/', prefix.size()) != std::string::npos)
        return std::nullopt;
    char* raw = nullptr;
    int r = sd_bus_path_decode(path, kGuestPathPrefix, &raw);
    std::unique_ptr<char, decltype(&std::free)> uuid(raw, &std::free);
    if (r < 0)
        throw Error(ErrorCode::Internal, std::string("cannot decode object path '") + path + "'");
    if (r == 0)
        return std::nullopt;
    return std::string(uuid.get());
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
