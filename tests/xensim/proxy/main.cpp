// The simulated host's vchan-socket-proxy: the same command line as Xen's
// (tools/vchan/vchan-socket-proxy.c), client mode with a socket path, as libxl and
// stubdomd run it. A vchan needs grant tables, which the sim does not have; so instead
// of bridging to the stub domain's qemu, it answers on the dom0 socket what that qemu
// would: the QMP greeting, qmp_capabilities, query-status, query-vnc (from the `-vnc`
// of the guest's dm-argv, as qemu would listen), change-vnc-password and set_password
// (recorded in DIR/qmp/STUBNAME.vnc-password for tests). Like the real proxy it serves
// one client at a time, and like its vchan connect it waits for the stub's qemu to
// publish the vchan before the greeting. Fault switches (README.md) make it misbehave.
//
// At device-model/<guest>/vnc-vchan (a Linux stub's display, stubimage/init) there is no
// answer to make up: the stub's end is the sim's stand-in for its qemu's VNC server (a real
// QEMU on DIR/vnc/stub-STUBDOMID.sock, started by xensim-dom), and each accepted connection
// is bridged to it byte for byte, one at a time as the real proxy serves them.
// Its log is its stderr (stubdomd logs it); commands go to DIR/log/qmp-STUBNAME.log.
#include "domtable.h"
#include "faults.h"

#include "sim_cxx.h"

#include <nlohmann/json.hpp>

#include <getopt.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using json = nlohmann::json;
using XsPtr = std::unique_ptr<xs_handle, decltype(&xs_close)>;

const char* dir = nullptr;

[[noreturn]] void usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage:\n\t%s [options] domainid nodepath [socket-path|file-no|-]\n\n"
                 "options:\n\t-m, --mode=client|server - vchan connection mode (client by "
                 "default)\n\t-s, --state-path=path - xenstore path where write \"running\" "
                 "to \n\t                        at startup\n\t-v, --verbose - verbose "
                 "logging\n",
                 argv0);
    std::exit(1);
}

using Stub = xsim::TableDomain;
using xsim::xsDirectory;
using xsim::xsRead;

void logCommand(const Stub& stub, const std::string& text) {
    std::ofstream(std::string(dir) + "/log/qmp-" + stub.name + ".log", std::ios::app)
        << text << "\n";
}

// The guest's qemu arguments, in key order (dm-argv/001, 002, ...).
std::vector<std::string> dmArgv(xs_handle* xs, uint32_t guest) {
    std::vector<std::string> argv;
    auto vm = xsRead(xs, "/local/domain/" + std::to_string(guest) + "/vm");
    if (!vm)
        return argv;
    const std::string base = *vm + "/image/dm-argv";
    auto keys = xsDirectory(xs, base);
    std::sort(keys.begin(), keys.end());
    for (const auto& key : keys)
        argv.push_back(xsRead(xs, base + "/" + key).value_or(""));
    return argv;
}

// What qemu's query-vnc reports for `-vnc HOST:DISPLAY[,options]`: it listens on HOST,
// port 5900 + DISPLAY; no -vnc (or -vnc none) means no VNC server.
json vncInfo(xs_handle* xs, const Stub& stub) {
    const auto argv = dmArgv(xs, stub.target);
    auto it = std::find(argv.begin(), argv.end(), "-vnc");
    if (it == argv.end() || it + 1 == argv.end() || *(it + 1) == "none")
        return {{"enabled", false}};
    const std::string value = *(it + 1);
    const std::string address = value.substr(0, value.find(','));
    const auto colon = address.rfind(':');
    std::string host = colon == std::string::npos ? address : address.substr(0, colon);
    const int display =
        colon == std::string::npos ? 0 : std::atoi(address.substr(colon + 1).c_str());
    if (host.size() > 1 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (host.empty())
        host = "0.0.0.0";
    const bool password = value.find(",password") != std::string::npos;
    return {{"enabled", true},
            {"host", host},
            {"service", std::to_string(5900 + display)},
            {"family", host.find(':') != std::string::npos ? "ipv6" : "ipv4"},
            {"auth", password ? "vnc" : "none"},
            {"clients", json::array()}};
}

void recordPassword(const Stub& stub, const std::string& password) {
    const std::string qmpDir = std::string(dir) + "/qmp";
    ::mkdir(qmpDir.c_str(), 0700);
    const std::string path = qmpDir + "/" + stub.name + ".vnc-password";
    std::ofstream(path, std::ios::trunc) << password;
    ::chmod(path.c_str(), 0600);
}

json error(const std::string& cls, const std::string& desc) {
    return {{"error", {{"class", cls}, {"desc", desc}}}};
}

// One request as qemu 7 answers it.
json answer(xs_handle* xs, const Stub& stub, const json& request, bool& negotiated) {
    const std::string name = request.value("execute", "");
    const json args = request.value("arguments", json::object());
    if (!negotiated && name != "qmp_capabilities")
        return error("CommandNotFound",
                     "Expecting capabilities negotiation with 'qmp_capabilities'");
    if (name == "qmp_capabilities") {
        if (negotiated)
            return error("CommandNotFound", "Capabilities negotiation is already complete, "
                                            "command ignored");
        negotiated = true;
        return {{"return", json::object()}};
    }
    if (name == "query-status")
        return {{"return", {{"running", true}, {"singlestep", false}, {"status", "running"}}}};
    if (name == "query-vnc")
        return {{"return", vncInfo(xs, stub)}};
    if (name == "change-vnc-password" || name == "set_password") {
        if (name == "set_password" && args.value("protocol", "") != "vnc")
            return error("GenericError", "Invalid parameter 'protocol'");
        if (!args.contains("password") || !args["password"].is_string())
            return error("GenericError", "Parameter 'password' is missing");
        // qemu's vnc_display_password: no VNC server, or one started without
        // ",password=on" (auth none), takes no password.
        const json vnc = vncInfo(xs, stub);
        if (!vnc.value("enabled", false) || vnc.value("auth", "") != "vnc")
            return error("GenericError", "Could not set password");
        recordPassword(stub, args["password"].get<std::string>());
        return {{"return", json::object()}};
    }
    return error("CommandNotFound", "The command " + name + " has not been found");
}

bool sendLine(int fd, const std::string& text) {
    const std::string line = text + "\r\n";
    for (size_t done = 0; done < line.size();) {
        ssize_t n = ::send(fd, line.data() + done, line.size() - done, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

// As connect_vchan does: wait for the vchan server (the stub's qemu) to publish its
// ring at NODEPATH; give up when the stub domain is gone.
bool waitForVchan(xs_handle* xs, const Stub& stub, const std::string& nodePath) {
    for (;;) {
        if (xsRead(xs, nodePath + "/ring-ref") && xsRead(xs, nodePath + "/event-channel"))
            return true;
        if (!xsim::findDomain(dir, stub.domid))
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

// False when the vchan cannot be had: the real proxy then exits 1.
bool serve(int client, xs_handle* xs, const Stub& stub, const std::string& nodePath) {
    const char* name = stub.name.c_str();
    if (!waitForVchan(xs, stub, nodePath)) {
        std::fprintf(stderr, "vchan client init: domain %u is gone\n", stub.domid);
        return false;
    }
    const bool neverGreet = xsim_fault(dir, "qmp-never-greet", name, nullptr, 0);
    const bool garbage = xsim_fault(dir, "qmp-garbage", name, nullptr, 0);
    char stallOn[128] = "";
    const bool stall = xsim_fault(dir, "qmp-stall", name, stallOn, sizeof stallOn);
    if (garbage)
        sendLine(client, "<html>this is not QMP</html>");
    else if (!neverGreet)
        sendLine(client, R"({"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7},)"
                         R"( "package": "xensim"}, "capabilities": ["oob"]}})");
    bool negotiated = false;
    std::string pending;
    char chunk[4096];
    for (;;) {
        ssize_t got = ::read(client, chunk, sizeof chunk);
        if (got <= 0)
            return true;
        pending.append(chunk, static_cast<size_t>(got));
        for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
            const std::string line = pending.substr(0, nl);
            pending.erase(0, nl + 1);
            if (neverGreet || garbage)
                continue;
            json request = json::parse(line, nullptr, false);
            if (request.is_discarded() || !request.is_object()) {
                sendLine(client, error("GenericError", "JSON parse error").dump());
                continue;
            }
            const std::string command = request.value("execute", "");
            logCommand(stub, command);
            if (stall && command != "qmp_capabilities" && (!*stallOn || command == stallOn))
                continue; // the fault: never answered
            json reply = answer(xs, stub, request, negotiated);
            if (request.contains("id"))
                reply["id"] = request["id"];
            if (!sendLine(client, reply.dump()))
                return true;
        }
    }
}

// Copies both ways until either side ends: what the two proxies and the vchan between them
// do for the display.
void bridge(int client, int server) {
    pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    char chunk[65536];
    for (;;) {
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        for (int i = 0; i < 2; ++i) {
            if (!fds[i].revents)
                continue;
            ssize_t got = ::read(fds[i].fd, chunk, sizeof chunk);
            if (got <= 0)
                return;
            for (ssize_t done = 0; done < got;) {
                ssize_t n = ::send(fds[1 - i].fd, chunk + done, static_cast<size_t>(got - done),
                                   MSG_NOSIGNAL);
                if (n <= 0)
                    return;
                done += n;
            }
        }
    }
}

// False when the vchan cannot be had (the stub is gone): the real proxy then exits 1.
bool serveDisplay(int client, xs_handle* xs, const Stub& stub, const std::string& nodePath) {
    if (!waitForVchan(xs, stub, nodePath)) {
        std::fprintf(stderr, "vchan client init: domain %u is gone\n", stub.domid);
        return false;
    }
    const std::string path = std::string(dir) + "/vnc/stub-" + std::to_string(stub.domid) + ".sock";
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    int server = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(server, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        // The stub's proxy cannot reach its qemu's socket: it drops the vchan, and this
        // end's client reads EOF.
        std::fprintf(stderr, "connect socket %s: %s\n", path.c_str(), std::strerror(errno));
        ::close(server);
        return true;
    }
    std::fprintf(stderr, "display connection bridged to %s\n", path.c_str());
    bridge(client, server);
    ::close(server);
    return true;
}

int listenOn(const std::string& path) {
    sockaddr_un address{};
    if (path.size() >= sizeof(address.sun_path)) {
        std::fprintf(stderr, "UNIX socket path \"%s\" too long\n", path.c_str());
        return -1;
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, path.c_str());
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
        std::perror("bind");
        ::close(fd);
        return -1;
    }
    if (::listen(fd, 5) != 0) {
        std::perror("listen");
        ::close(fd);
        return -1;
    }
    return fd;
}

} // namespace

int main(int argc, char** argv) {
    // Only for the sim: a test that kills stubdomd outright must not leak proxies.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    static const option options[] = {{"mode", required_argument, nullptr, 'm'},
                                     {"verbose", no_argument, nullptr, 'v'},
                                     {"state-path", required_argument, nullptr, 's'},
                                     {nullptr, 0, nullptr, 0}};
    bool server = false;
    const char* statePath = nullptr;
    for (int opt; (opt = getopt_long(argc, argv, "m:vs:", options, nullptr)) != -1;) {
        if (opt == 'm') {
            if (std::strcmp(optarg, "server") == 0)
                server = true;
            else if (std::strcmp(optarg, "client") != 0) {
                std::fprintf(stderr, "invalid argument for --mode: %s\n", optarg);
                usage(argv[0]);
            }
        } else if (opt == 's') {
            statePath = optarg;
        } else if (opt != 'v') {
            usage(argv[0]);
        }
    }
    if (argc - optind != 3)
        usage(argv[0]);
    dir = std::getenv("XENSIM_DIR");
    if (!dir) {
        std::fprintf(stderr, "xensim: XENSIM_DIR is not set (source DIR/env after `xensim up "
                             "DIR`)\n");
        return 1;
    }
    const std::string socketPath = argv[optind + 2];
    if (server || socketPath == "-" || socketPath[0] != '/') {
        std::fprintf(stderr, "xensim: only client mode with a socket path is simulated\n");
        return 1;
    }
    const auto domid = static_cast<uint32_t>(std::strtoul(argv[optind], nullptr, 10));
    auto stub = xsim::findDomain(dir, domid);
    const std::string home = stub ? "/local/domain/" + std::to_string(domid) + "/device-model/" +
                                        std::to_string(stub->target) + "/"
                                  : "";
    const bool display = stub && home + "vnc-vchan" == argv[optind + 1];
    if (!stub || stub->target == XSIM_NO_TARGET ||
        (home + "qmp-vchan" != argv[optind + 1] && !display)) {
        std::fprintf(stderr, "vchan client init: no vchan at %s for domain %s\n", argv[optind + 1],
                     argv[optind]);
        return 1;
    }
    setenv("XENSTORED_PATH", (std::string(dir) + "/socket").c_str(), 1);
    XsPtr xs(xs_open(0), &xs_close);
    if (!xs) {
        std::perror("xs_open");
        return 1;
    }
    int listener = listenOn(socketPath);
    if (listener < 0) {
        std::fprintf(stderr, "listen socket failed\n");
        return 1;
    }
    if (statePath && !xs_write(xs.get(), XBT_NULL, statePath, "running", 7)) {
        std::perror("xs_write");
        return 1;
    }
    for (;;) {
        int client = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (client < 0) {
            std::perror("accept");
            return 1;
        }
        const bool served = display ? serveDisplay(client, xs.get(), *stub, argv[optind + 1])
                                    : serve(client, xs.get(), *stub, argv[optind + 1]);
        ::close(client);
        if (!served)
            return 1;
    }
}
