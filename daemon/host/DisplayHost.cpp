#include "host/DisplayHost.hpp"

#include "core/Errors.hpp"
#include "host/HostFiles.hpp"
#include "host/TextFile.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <cstring>

namespace stubdomd {

namespace {

using json = nlohmann::json;

std::optional<std::string> environmentVariable(const char* name) {
    const char* value = std::getenv(name);
    if (!value || !*value)
        return std::nullopt;
    return std::string(value);
}

} // namespace

DisplayHost::DisplayHost(const std::string& xenConfigDir, std::string stateDir)
    : configs_(xenConfigDir), dir_(std::move(stateDir) + "/display") {}

std::optional<GuestDisplayConfig> DisplayHost::guestConfig(const std::string& guestName) {
    return configs_.load(guestName);
}

std::string DisplayHost::fileFor(const std::string& uuid) const {
    // uuids come from dom0-owned xenstore nodes and were checked by the probe; still,
    // one must never name another file.
    if (uuid.empty() || uuid.find_first_not_of("0123456789abcdefABCDEF-") != std::string::npos)
        throw Error(ErrorCode::Internal, "'" + uuid + "' is not a uuid");
    return dir_ + "/" + uuid + ".json";
}

StoredDisplay DisplayHost::stored(const std::string& uuid) {
    const std::string path = fileFor(uuid);
    std::optional<std::string> text;
    try {
        text = readTextFile(path);
    } catch (const Error& e) {
        throw Error(ErrorCode::Internal, e.what());
    }
    StoredDisplay out;
    if (!text)
        return out;
    try {
        json file = json::parse(*text);
        if (file.contains("mode")) {
            auto mode = displayModeFromString(file.at("mode").get<std::string>());
            if (!mode)
                throw Error(ErrorCode::Internal, path + ": unknown mode");
            DisplayChoice choice;
            choice.mode = *mode;
            if (file.contains("address"))
                choice.address = file.at("address").get<std::string>();
            if (file.contains("port"))
                choice.port = file.at("port").get<std::int32_t>();
            if (file.contains("keymap"))
                choice.keymap = file.at("keymap").get<std::string>();
            out.choice = choice;
        }
        if (file.contains("vncpasswd"))
            out.password = file.at("vncpasswd").get<std::string>();
    } catch (const json::exception&) {
        // The message could quote the file, password and all: say only where.
        throw Error(ErrorCode::Internal, path + " is not a display state file stubdomd wrote");
    }
    return out;
}

void DisplayHost::store(const std::string& uuid, const StoredDisplay& display) {
    const std::string path = fileFor(uuid);
    ensureDirectory(dir_, 0700);
    json file = json::object();
    if (display.choice) {
        file["mode"] = std::string(toString(display.choice->mode));
        if (display.choice->address)
            file["address"] = *display.choice->address;
        if (display.choice->port)
            file["port"] = *display.choice->port;
        if (display.choice->keymap)
            file["keymap"] = *display.choice->keymap;
    }
    if (display.password)
        file["vncpasswd"] = *display.password;
    // The file holds the VNC password.
    writeFileAtomically(path, file.dump(2) + "\n", 0600);
}

DisplayEnvironment DisplayHost::environment() {
    return {environmentVariable("DISPLAY"), environmentVariable("XAUTHORITY")};
}

} // namespace stubdomd
