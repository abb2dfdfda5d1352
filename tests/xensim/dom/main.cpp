// xensim-dom DIR DOMID: the simulated life of a stub domain after its first unpause,
// started detached by the shim or the fake xl. After the boot delay it does what the
// stub domain's qemu and the dom0 vfb backend would: report the device model "running"
// and, for a vnc vfb, the VNC port. A Linux stub (kernel qemu-stubdom-linux-kernel) first
// reads the guest's dm-argv as its init does, publishes its QMP vchan, starts its display's VNC
// server and publishes the display's vchan. Fault switches can keep
// it from running or crash it. Its log is DIR/log/dom-DOMID.log.
#include "domops.h"
#include "domtable.h"
#include "faults.h"
#include "procutil.h"

#include "sim_cxx.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using Clock = std::chrono::steady_clock;
using XsPtr = std::unique_ptr<xs_handle, decltype(&xs_close)>;

using Stub = xsim::TableDomain;
using xsim::xsRead;

// What the domain prints on its console 0: into the ring that xensim-consoled (the sim's
// xenconsoled) copies to the domain's pty. Lost, as on a full ring, when nobody serves it.
void console(const char* dir, const Stub& s, const std::string& text) {
    std::string ring = std::string(dir) + "/console/" + std::to_string(s.domid);
    int fd = open(ring.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return;
    std::string line = text + "\r\n";
    ssize_t n = write(fd, line.data(), line.size());
    (void)n;
    close(fd);
}

// A stub that floods its console (a guest making its QEMU print without end, XSA-180):
// `bytes` of numbered lines, then "flood done". Unlike console(), it waits for room in the
// ring, as a real console ring makes its writer wait: every byte reaches the reader.
void flood(const char* dir, const Stub& s, long long bytes) {
    std::string ring = std::string(dir) + "/console/" + std::to_string(s.domid);
    int fd = open(ring.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    std::string filler(90, 'f');
    long long sent = 0;
    for (long long n = 0; sent < bytes; ++n) {
        std::string line = "flood " + std::to_string(n) + " " + filler + "\r\n";
        if (write(fd, line.data(), line.size()) < 0)
            break; // the console went with the domain
        sent += static_cast<long long>(line.size());
    }
    std::string done = "flood done\r\n";
    ssize_t n = write(fd, done.data(), done.size());
    (void)n;
    close(fd);
    std::printf("xensim-dom: fault stubdom-console-flood: %lld bytes written\n", sent);
}

// What a Linux stub's kernel prints when its OOM killer kills QEMU (the line of
// qubes-issues #3821), and the panic that follows once its init, which waits on QEMU,
// exits: the domain crashes.
void outOfMemory(const char* dir, const Stub& s) {
    console(dir, s,
            "[   41.873412] Out of memory: Killed process 231 (qemu-system-i38) "
            "total-vm:301456kB, anon-rss:182340kB, file-rss:0kB, shmem-rss:0kB, UID:0 "
            "pgtables:520kB oom_score_adj:0");
    console(dir, s,
            "[   41.902877] Kernel panic - not syncing: Attempted to kill init! "
            "exitcode=0x00000009");
}

std::vector<xs_permissions> perms(xs_handle* xs, const std::string& path) {
    unsigned n = 0;
    std::unique_ptr<xs_permissions, decltype(&std::free)> p(
        xs_get_permissions(xs, XBT_NULL, path.c_str(), &n), &std::free);
    return p ? std::vector<xs_permissions>(p.get(), p.get() + n) : std::vector<xs_permissions>{};
}

// xenstored's perm_for_conn for an unprivileged domain `self` whose target is `target`.
unsigned permFor(const std::vector<xs_permissions>& p, uint32_t self, uint32_t target) {
    if (p.empty())
        return 0;
    if (p[0].id == self || p[0].id == target)
        return XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;
    for (size_t i = 1; i < p.size(); i++)
        if (p[i].id == self || p[i].id == target)
            return p[i].perms;
    return p[0].perms;
}

// The node itself if it exists, else its nearest existing ancestor: what xenstored
// checks when a domain writes there.
std::string governingNode(xs_handle* xs, std::string path) {
    while (!xsRead(xs, path) && path.size() > 1)
        path = path.substr(0, std::max<size_t>(1, path.rfind('/')));
    return path;
}

// Writes as the stub domain could: only where its permissions allow, and a node it
// creates is its own, as xenstored makes it.
bool writeAsStub(xs_handle* xs, const Stub& s, const std::string& path, const std::string& v) {
    std::string gov = governingNode(xs, path);
    auto p = perms(xs, gov);
    if (!(permFor(p, s.domid, s.target) & XS_PERM_WRITE)) {
        std::printf("xensim-dom: domain %u may not write %s (governed by %s)\n", s.domid,
                    path.c_str(), gov.c_str());
        return false;
    }
    bool created = gov != path;
    if (!xs_write(xs, XBT_NULL, path.c_str(), v.data(), static_cast<unsigned>(v.size())))
        return false;
    if (created && !p.empty()) {
        p[0].id = s.domid;
        xs_set_permissions(xs, XBT_NULL, path.c_str(), p.data(), static_cast<unsigned>(p.size()));
    }
    std::printf("xensim-dom: %s = %s\n", path.c_str(), v.c_str());
    return true;
}

// What the stub domain boots: its kernel as libxl recorded it at /vm/<uuid>/image/kernel.
bool isLinuxStub(xs_handle* xs, const Stub& s) {
    auto vm = xsRead(xs, "/local/domain/" + std::to_string(s.domid) + "/vm");
    auto kernel = vm ? xsRead(xs, *vm + "/image/kernel") : std::nullopt;
    if (!kernel)
        return false;
    auto slash = kernel->rfind('/');
    return kernel->substr(slash == std::string::npos ? 0 : slash + 1) ==
           "qemu-stubdom-linux-kernel";
}

// The Linux stub's init reads its qemu arguments from the guest's dm-argv keys, sorted
// (xenstore-list | sort): nothing to run without them, or when the stub may not read them.
bool readDmArgv(xs_handle* xs, const char* dir, const Stub& s, std::string& qemuName) {
    auto vm = xsRead(xs, "/local/domain/" + std::to_string(s.target) + "/vm");
    std::string argv = vm.value_or("/vm/?") + "/image/dm-argv";
    if (!(permFor(perms(xs, argv), s.domid, s.target) & XS_PERM_READ)) {
        std::printf("xensim-dom: linux stub: cannot read %s; qemu does not start\n", argv.c_str());
        return false;
    }
    auto keys = xsim::xsDirectory(xs, argv);
    std::sort(keys.begin(), keys.end());
    if (keys.empty()) {
        std::printf("xensim-dom: linux stub: %s is empty; qemu does not start\n", argv.c_str());
        return false;
    }
    std::string line, previous;
    for (const auto& key : keys) {
        if (!(permFor(perms(xs, argv + "/" + key), s.domid, s.target) & XS_PERM_READ)) {
            std::printf("xensim-dom: linux stub: cannot read %s/%s; qemu does not start\n",
                        argv.c_str(), key.c_str());
            return false;
        }
        const std::string value = xsRead(xs, argv + "/" + key).value_or("");
        line += " [" + value + "]";
        if (previous == "-name")
            qemuName = value;
        previous = value;
    }
    std::printf("xensim-dom: dm-argv:%s\n", line.c_str());
    console(dir, s, "+ qemu (xensim stand-in)" + line);
    return true;
}

// The stub's vchan-socket-proxies serve qemu's QMP socket and its VNC socket to dom0 over
// vchans: libxenvchan's server publishes ring-ref and event-channel under
// device-model/<guest>/qmp-vchan (and vnc-vchan), owned by the stub and readable by dom0
// (its peer).
void publishVchan(xs_handle* xs, const Stub& s, const std::string& node) {
    std::string base = "/local/domain/" + std::to_string(s.domid) + "/device-model/" +
                       std::to_string(s.target) + "/" + node;
    xs_permissions p[2] = {{s.domid, XS_PERM_NONE}, {0, XS_PERM_READ}};
    for (const auto& [key, value] : {std::pair<std::string, std::string>{"ring-ref", "8"},
                                     std::pair<std::string, std::string>{"event-channel", "5"}}) {
        std::string path = base + "/" + key;
        if (writeAsStub(xs, s, path, value))
            xs_set_permissions(xs, XBT_NULL, path.c_str(), p, 2);
    }
}

void startVncServer(const char* dir, const Stub& s, const std::string& base,
                    const std::string& name);

void reportRunning(xs_handle* xs, const char* dir, const Stub& s) {
    std::string g = std::to_string(s.target);
    std::string own = "/local/domain/" + std::to_string(s.domid) + "/device-model/" + g + "/state";
    if (isLinuxStub(xs, s)) {
        console(dir, s, "Linux stub domain " + s.name + " (xensim stand-in) booting, target " + g);
        // Upstream qemu writes its state relative to its own domain, never the legacy path.
        std::string qemuName;
        if (!readDmArgv(xs, dir, s, qemuName))
            return;
        publishVchan(xs, s, "qmp-vchan");
        // The display's socket exists before its vchan is offered, as the init starts its
        // proxy after QEMU is up.
        startVncServer(dir, s, std::string(dir) + "/vnc/stub-" + std::to_string(s.domid), qemuName);
        publishVchan(xs, s, "vnc-vchan");
        writeAsStub(xs, s, own, "running");
        return;
    }
    console(dir, s, "ioemu stub domain " + s.name + " (xensim stand-in) booting, target " + g);
    // What the stub's qemu reads first: the guest's device-model arguments.
    if (auto vm = xsRead(xs, "/local/domain/" + g + "/vm"))
        if (auto dmargs = xsRead(xs, *vm + "/image/dmargs")) {
            std::printf("xensim-dom: dmargs: %s\n", dmargs->c_str());
            console(dir, s, "dmargs:" + *dmargs);
        }
    if (!writeAsStub(xs, s, own, "running"))
        writeAsStub(xs, s, "/local/domain/0/device-model/" + g + "/state", "running");
}

// The dom0 vfb backend's port, bound as a TCP port would be: DIR/vnc/PORT names the
// domain that holds it, and a port whose domain is gone is free again (its backend went
// with it). One allocation at a time (DIR/vnc/.lock), so two backends never take one
// port; the search costs what real qemu's bind attempts from 5900 up cost.
class PortRegistry {
public:
    explicit PortRegistry(const char* dir) : dir_(std::string(dir) + "/vnc") {
        mkdir(dir_.c_str(), 0700);
        lock_ = open((dir_ + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (lock_ >= 0)
            while (flock(lock_, LOCK_EX) < 0 && errno == EINTR)
                ;
    }
    ~PortRegistry() {
        if (lock_ >= 0)
            close(lock_); // drops the lock
    }
    PortRegistry(const PortRegistry&) = delete;
    PortRegistry& operator=(const PortRegistry&) = delete;

    bool taken(const char* dir, int port) const {
        std::string holder = readFile(path(port));
        return !holder.empty() &&
               xsim::findDomain(dir,
                                static_cast<uint32_t>(std::strtoul(holder.c_str(), nullptr, 10)));
    }
    void claim(int port, uint32_t domid) const {
        std::string tmp = path(port) + ".new";
        std::string v = std::to_string(domid);
        int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
            return;
        ssize_t n = write(fd, v.data(), v.size());
        close(fd);
        if (n == static_cast<ssize_t>(v.size()))
            rename(tmp.c_str(), path(port).c_str());
    }

private:
    std::string path(int port) const { return dir_ + "/" + std::to_string(port); }
    static std::string readFile(const std::string& p) {
        char buf[32];
        int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return "";
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    }
    std::string dir_;
    int lock_ = -1;
};

// The vfb backend's VNC server: a real one, so clients speak real RFB to it. On Xen it is
// the QEMU libxl starts in dom0 for the stub domain (`qemu-system-i386 -xen-domid S`, which
// needs a hypervisor); here the same QEMU on a machine of its own, held stopped (-S) before
// its firmware runs: it costs no CPU, and its screen stays what QEMU shows for a display
// nobody drew on yet, a fixed 640x480 picture with QEMU's "Guest has not initialized the
// display (yet)." — the same pixels for every screenshot. It listens on DIR/vnc/PORT.sock
// (the shim's connect() maps TCP port PORT there, see shim/vncnet.c) and answers QMP on
// DIR/vnc/PORT.qmp (tests take its own screendump to compare). Recorded as the domain's
// 'v' process, ended with it. Off with `xensim set DIR vnc-server 0`; the program is
// $XENSIM_QEMU or qemu-system-x86_64 from PATH.
//
// The same QEMU stands in for the VNC server of a Linux stub's own qemu (`-vnc
// unix:/run/vnc.sock` in the stub, stubimage/init), at DIR/vnc/stub-STUBDOMID.sock, named
// as that qemu is (its dm-argv's -name); the sim's vchan-socket-proxy bridges the display
// proxy's connections to it.
void startVncServer(const char* dir, const Stub& s, const std::string& base,
                    const std::string& name) {
    if (!xsim_setting(dir, "vnc-server", 1))
        return;
    const std::string sock = base + ".sock", qmp = base + ".qmp";
    mkdir((std::string(dir) + "/vnc").c_str(), 0700); // a Linux stub may have no vfb port
    unlink(sock.c_str()); // a server killed with its domain leaves its socket behind
    unlink(qmp.c_str());
    std::string qemu = getenv("XENSIM_QEMU") ? getenv("XENSIM_QEMU") : "";
    if (qemu.empty()) {
        const char* path = getenv("PATH");
        std::string dirs = path ? path : "/usr/bin:/bin";
        for (size_t at = 0; qemu.empty() && at <= dirs.size();) {
            size_t end = dirs.find(':', at);
            if (end == std::string::npos)
                end = dirs.size();
            std::string candidate = dirs.substr(at, end - at) + "/qemu-system-x86_64";
            if (access(candidate.c_str(), X_OK) == 0)
                qemu = candidate;
            at = end + 1;
        }
    }
    if (qemu.empty()) {
        std::printf("xensim-dom: no qemu-system-x86_64 in PATH: %s has no VNC server\n",
                    base.c_str());
        return;
    }
    std::string vnc = "unix:" + sock, qmpArg = "unix:" + qmp + ",server=on,wait=off";
    std::vector<std::string> args{qemu,   "-nodefaults", "-machine", "pc,accel=tcg", "-m", "16",
                                  "-vga", "std",         "-display", "none",         "-S", "-vnc",
                                  vnc,    "-qmp",        qmpArg,     "-name",        name};
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string log = std::string(dir) + "/log/vnc-" + name + ".log";
    pid_t pid = xsim_spawn_detached(argv.data(), log.c_str());
    if (pid < 0) {
        std::perror("xensim-dom: starting the VNC server");
        return;
    }
    // A domain destroyed while its server started cannot take it any more: the server
    // goes now, or it would outlive the domain and the host.
    if (xsim_dom_attach_vnc(dir, s.domid, pid) != 0) {
        kill(pid, SIGKILL);
        std::printf("xensim-dom: domain %u is gone; its VNC server pid %d ended\n", s.domid,
                    static_cast<int>(pid));
        return;
    }
    // The port is published once the server listens on it, as QEMU's listen precedes the
    // vnc-port a real backend writes (its socket's path exists from bind, a moment before
    // it accepts). However long QEMU takes, for as long as it lives.
    while (xsim_proc_start(pid) != 0 && !xsim_unix_listening(sock.c_str()))
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::printf("xensim-dom: VNC server pid %d on %s\n", static_cast<int>(pid), sock.c_str());
}

// The dom0 vfb backend (qemu for the PV domain) publishes the VNC port it bound.
void reportVnc(xs_handle* xs, const char* dir, const Stub& s) {
    std::string be = "/local/domain/0/backend/vfb/" + std::to_string(s.domid) + "/0";
    if (xsRead(xs, be + "/vnc").value_or("0") != "1")
        return;
    int port = 5900 + std::atoi(xsRead(xs, be + "/vncdisplay").value_or("0").c_str());
    {
        PortRegistry ports(dir); // the allocation's lock, not held while QEMU starts
        if (xsRead(xs, be + "/vncunused").value_or("1") != "0")
            while (ports.taken(dir, port))
                port++;
        ports.claim(port, s.domid);
    }
    startVncServer(dir, s, std::string(dir) + "/vnc/" + std::to_string(port), s.name + "-vfb");
    std::string path = "/local/domain/" + std::to_string(s.domid) + "/console/vnc-port";
    std::string v = std::to_string(port);
    xs_write(xs, XBT_NULL, path.c_str(), v.data(), static_cast<unsigned>(v.size()));
    std::printf("xensim-dom: %s = %s\n", path.c_str(), v.c_str());
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: xensim-dom DIR DOMID\n");
        return 2;
    }
    const char* dir = argv[1];
    uint32_t domid = static_cast<uint32_t>(std::strtoul(argv[2], nullptr, 10));
    auto stub = xsim::findDomain(dir, domid);
    if (!stub || stub->target == XSIM_NO_TARGET)
        return 0;
    setvbuf(stdout, nullptr, _IOLBF, 0);
    setenv("XENSTORED_PATH", (std::string(dir) + "/socket").c_str(), 1);

    auto start = Clock::now();
    auto bootAt = start + std::chrono::milliseconds(xsim_setting(dir, "boot-delay-ms", 150));
    bool neverRunning = xsim_fault(dir, "stubdom-never-running", stub->name.c_str(), nullptr, 0);
    long long crashMs = xsim_fault_number(dir, "stubdom-crash-ms", stub->name.c_str(), -1);
    auto crashAt = start + std::chrono::milliseconds(crashMs);

    if (!neverRunning && (crashMs < 0 || bootAt <= crashAt)) {
        std::this_thread::sleep_until(bootAt);
        if (!xsim::findDomain(dir, domid))
            return 0; // destroyed while booting
        XsPtr xs(xs_open(0), &xs_close);
        if (!xs) {
            std::perror("xensim-dom: xs_open");
            return 1;
        }
        // The vfb backend first: on Xen it runs in dom0 from the domain's creation, so its
        // port is known by the time the device model reports running.
        reportVnc(xs.get(), dir, *stub);
        reportRunning(xs.get(), dir, *stub);
    } else if (neverRunning) {
        std::printf("xensim-dom: fault stubdom-never-running: not reporting running\n");
    }
    if (long long bytes = xsim_fault_number(dir, "stubdom-console-flood", stub->name.c_str(), -1);
        bytes >= 0 && xsim::findDomain(dir, domid))
        flood(dir, *stub, bytes);
    long long oomMs = xsim_fault_number(dir, "stubdom-oom-ms", stub->name.c_str(), -1);
    if (oomMs >= 0 && (crashMs < 0 || oomMs <= crashMs)) {
        std::this_thread::sleep_until(start + std::chrono::milliseconds(oomMs));
        if (!xsim::findDomain(dir, domid))
            return 0;
        outOfMemory(dir, *stub);
        // The console's copy reaches the pty before the domain is gone, as on Xen, where
        // the ring is read before the crash is handled.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        std::printf("xensim-dom: fault stubdom-oom-ms: domain %u runs out of memory\n", domid);
        if (xsim_dom_shutdown(dir, domid, XSIM_SHUTDOWN_CRASH))
            std::perror("xensim-dom: crash");
        return 0;
    }
    if (crashMs >= 0) {
        std::this_thread::sleep_until(crashAt);
        std::printf("xensim-dom: fault stubdom-crash-ms: domain %u crashes\n", domid);
        if (xsim_dom_shutdown(dir, domid, XSIM_SHUTDOWN_CRASH))
            std::perror("xensim-dom: crash");
    }
    return 0;
}
