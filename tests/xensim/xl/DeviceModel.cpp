#include "DeviceModel.h"

#include "XlError.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace xensim {

namespace {

std::string libxlError(uint32_t domid, const std::string& what) {
    return "libxl: error: libxl_dm.c: Domain " + std::to_string(domid) + ":" + what;
}

[[noreturn]] void execDeviceModel(const std::vector<std::string>& args, uint32_t domid,
                                  const std::string& log) {
    setsid();
    int in = open("/dev/null", O_RDONLY);
    int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in >= 0)
        dup2(in, 0);
    if (out >= 0) {
        dup2(out, 1);
        dup2(out, 2);
    }
    close_range(3, ~0u, 0);
    // libxl__set_qemu_env_for_xsa_180 and the HVM branch of the args builder.
    setenv("XEN_QEMU_CONSOLE_LIMIT", "1048576", 1);
    setenv("XEN_DOMAIN_ID", std::to_string(domid).c_str(), 1);
    std::vector<char*> argv;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    std::fprintf(stderr, "libxl: cannot execute %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
}

std::string exitDescription(int status) {
    if (WIFEXITED(status))
        return "exited with error status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return std::string("died due to fatal signal ") + strsignal(WTERMSIG(status));
    return "changed state";
}

} // namespace

std::vector<std::string> deviceModelArgs(const GuestSpec& g, uint32_t domid) {
    std::vector<std::string> a{*g.deviceModel, "-d", std::to_string(domid), "-domain-name", g.name};
    const Display& d = g.display;
    if (d.vnc) {
        std::string arg = d.vnclisten.find(':') != std::string::npos
                              ? d.vnclisten
                              : d.vnclisten + ":" + std::to_string(d.vncdisplay);
        if (!d.vncpasswd.empty())
            arg += ",password";
        a.insert(a.end(), {"-vnc", arg});
        if (d.vncunused)
            a.push_back("-vncunused");
    } else if (!d.sdl) {
        a.push_back("-nographic");
    }
    if (d.sdl) {
        a.push_back("-sdl");
        if (!d.opengl)
            a.push_back("-disable-opengl");
    }
    if (!d.keymap.empty())
        a.insert(a.end(), {"-k", d.keymap});
    for (const auto& s : g.serial)
        a.insert(a.end(), {"-serial", s});
    if (g.videoMiB)
        a.insert(a.end(), {"-videoram", std::to_string(g.videoMiB)});
    if (g.stdvga)
        a.push_back("-std-vga");
    if (!g.boot.empty())
        a.insert(a.end(), {"-boot", g.boot});
    if (g.usb || !g.usbdevices.empty()) {
        a.push_back("-usb");
        for (const auto& u : g.usbdevices)
            a.insert(a.end(), {"-usbdevice", u});
    }
    if (g.soundhw)
        a.insert(a.end(), {"-soundhw", *g.soundhw});
    if (g.acpi)
        a.push_back("-acpi");
    if (g.vcpus > 1)
        a.insert(a.end(), {"-vcpus", std::to_string(g.vcpus)});
    // libxl_bitmap_to_hex_string of the online vcpus, lowest vcpu in the last digit.
    std::string avail;
    long bytes = (g.vcpus + 7) / 8;
    for (long b = bytes - 1; b >= 0; b--) {
        long bits = std::min(8L, g.vcpus - b * 8);
        char buf[4];
        std::snprintf(buf, sizeof buf, "%02lx", bits >= 8 ? 0xffL : (1L << bits) - 1);
        avail += buf;
    }
    a.insert(a.end(), {"-vcpu_avail", "0x" + avail});
    int nics = 0;
    for (size_t i = 0; i < g.vifs.size(); i++) {
        const Vif& v = g.vifs[i];
        if (v.type == "vif")
            continue; // a PV-only nic has no emulated twin
        std::string id = std::to_string(i);
        a.insert(a.end(),
                 {"-net", "nic,vlan=" + id + ",macaddr=" + v.mac + ",model=" + v.model, "-net",
                  "tap,vlan=" + id + ",ifname=tap" + std::to_string(domid) + "." + id +
                      ",bridge=" + v.bridge + ",script=no,downscript=no"});
        nics++;
    }
    if (!nics)
        a.insert(a.end(), {"-net", "none"});
    a.insert(a.end(), g.deviceModelArgs.begin(), g.deviceModelArgs.end());
    a.insert(a.end(), {"-M", "xenfv"});
    return a;
}

pid_t spawnDeviceModel(const Host& host, XenStore& xs, const GuestSpec& g, uint32_t domid) {
    const std::string& dm = *g.deviceModel;
    if (access(dm.c_str(), X_OK) < 0)
        fail(kExitCreateFailed, libxlError(domid, "device model " + dm + " is not executable: " +
                                                      std::strerror(errno)));
    std::string dom = "/local/domain/" + std::to_string(domid);
    std::string dmPath = "/local/domain/0/device-model/" + std::to_string(domid);
    xs.write(dom + "/hvmloader/bios", "rombios");
    xs.write(dom + "/hvmloader/allow-memory-relocate", "1");
    xs.mkdir(dmPath);
    xs.write(dmPath + "/disable_pf", g.xenPlatformPci ? "0" : "1");
    if (!g.display.vncpasswd.empty()) {
        if (auto vm = xs.read(dom + "/vm"))
            xs.write(*vm + "/vncpasswd", g.display.vncpasswd);
    }

    std::string statePath = dmPath + "/state";
    if (!xs.watch(statePath, "dm-state"))
        fail(kExitCreateFailed, libxlError(domid, "cannot watch " + statePath));

    auto args = deviceModelArgs(g, domid);
    std::string log = host.path("log/qemu-dm-" + g.name + ".log");
    std::fflush(nullptr);
    pid_t pid = fork();
    if (pid < 0)
        fail(kExitCreateFailed, libxlError(domid, std::string("fork: ") + std::strerror(errno)));
    if (pid == 0)
        execDeviceModel(args, domid, log);

    {
        // Tracked at once, so `xensim down` ends it even if this xl is killed now.
        DomainTable table(host, true);
        if (auto* d = table.edit(domid)) {
            xsim_dom_add_proc(d, pid, 'm');
            table.commit();
        }
    }
    xs.write(dom + "/image/device-model-pid", std::to_string(pid));

    auto timeout = std::chrono::milliseconds(host.setting("dm-timeout-ms", 60000));
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string what = "domain " + std::to_string(domid) + " device model";
    for (;;) {
        if (xs.read(statePath).value_or("") == "running")
            return pid;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            fail(kExitCreateFailed, "libxl: error: libxl_exec.c: " + what + ": " +
                                        exitDescription(status) + " during startup (log: " + log +
                                        ")");
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
            fail(kExitCreateFailed,
                 "libxl: error: libxl_exec.c: " + what + ": startup timed out (log: " + log + ")");
        }
        pollfd p{xs.fd(), POLLIN, 0};
        poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 50)));
        xs.drainWatches();
    }
}

} // namespace xensim
