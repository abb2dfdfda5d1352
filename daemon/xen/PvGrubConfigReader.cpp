#include "xen/PvGrubConfigReader.hpp"

#include "host/TextFile.hpp"
#include "xen/XluConfig.hpp"

#include <cerrno>
#include <cstring>

namespace stubdomd {

pvgrub::PvGuestConfig parsePvGuestConfig(const std::string& text, const std::string& source) {
    XluConfig xlu(text, source);
    pvgrub::PvGuestConfig config;
    config.source = source;
    config.name = xlu.string("name").value_or("");
    // xl's rule (xl_parse.c): `type` if set, else `builder` ("hvm" or "generic"), else PV.
    if (auto type = xlu.string("type")) {
        if (*type != "pv" && *type != "pvh" && *type != "hvm")
            xlu.fail("type", "'type' must be pv, pvh or hvm, got \"" + *type + "\"");
        config.type = *type;
    } else if (auto builder = xlu.string("builder")) {
        config.type = *builder == "hvm" ? "hvm" : "pv";
    } else {
        config.type = "pv";
    }
    config.kernel = xlu.string("kernel");
    config.bootloader = xlu.string("bootloader");
    config.cmdline = xlu.string("cmdline");
    config.root = xlu.string("root");
    config.extra = xlu.string("extra");
    config.lines = xlu.keys();
    return config;
}

pvgrub::PvGuestConfig readPvGuestConfig(const std::string& path) {
    const std::optional<std::string> text = readTextFile(path);
    if (!text)
        throw Error(ErrorCode::InvalidConfig, "cannot read " + path + ": " + std::strerror(ENOENT));
    return parsePvGuestConfig(*text, path);
}

} // namespace stubdomd
