#include "DisplayHost.hpp"

#include "HostFiles.hpp"
#include "config/TextFile.hpp"
#include "core/Errors.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace stubdomd {

namespace {

using json = nlohmann::json;

[[noreturn]] void fail(const std::string& what, const std::string& path) {
    throw Error(ErrorCode::Internal, what + " " + path + ": " + std::strerror(errno));
}

// The file holds the VNC password: it is made 0600 before anything is written to it.
void writePrivately(const std::string& path, const std::string& content) {
    const std::string temporary = path + ".tmp";
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        fail("cannot write", temporary);
    if (::fchmod(fd, 0600) != 0) {
        ::close(fd);
        fail("cannot protect", temporary);
    }
    std::size_t done = 0;
    while (done < content.size()) {
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            ::close(fd);
            errno = saved;
            fail("cannot write", temporary);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0)
        fail("cannot write", temporary);
    if (::rename(temporary.c_str(), path.c_str()) != 0)
        fail("cannot rename into", path);
}

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
    writePrivately(path, file.dump(2) + "\n");
}

DisplayEnvironment DisplayHost::environment() {
    return {environmentVariable("DISPLAY"), environmentVariable("XAUTHORITY")};
}

} // namespace stubdomd
