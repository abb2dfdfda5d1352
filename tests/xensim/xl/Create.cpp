#include "Commands.h"

#include "DeviceModel.h"
#include "Devices.h"
#include "DomainTree.h"
#include "GuestSpec.h"
#include "XlConfig.h"
#include "XlError.h"
#include "domops.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace xensim {

namespace {

struct CreateOptions {
    std::string file;
    std::vector<std::string> extra; // "key=value" lines appended to the config
    bool paused = false;
    bool quiet = false;
    bool dryrun = false;
};

CreateOptions parseOptions(const Args& args) {
    CreateOptions o;
    for (size_t i = 1; i < args.size(); i++) {
        const std::string& a = args[i];
        if (a == "-p")
            o.paused = true;
        else if (a == "-q" || a == "--quiet")
            o.quiet = true;
        else if (a == "-n" || a == "--dryrun")
            o.dryrun = true;
        else if ((a == "-f" || a == "--defconfig") && i + 1 < args.size())
            o.file = args[++i];
        else if (a.rfind("-f", 0) == 0 && a.size() > 2 && a[2] != '-')
            o.file = a.substr(2);
        else if (a == "-F" || a == "-e" || a == "-d" || a == "-c" || a == "-V" || a == "-A" ||
                 a == "-i")
            continue; // monitoring and console options: nothing to monitor on the sim
        else if (!a.empty() && a[0] == '-')
            fail(2, "xl create: unknown option '" + a + "'");
        else if (a.find('=') != std::string::npos)
            o.extra.push_back(a);
        else if (o.file.empty())
            o.file = a;
        else
            fail(2, "Usage: xl create <ConfigFile> [options] [vars]");
    }
    if (o.file.empty())
        fail(kExitCreateFailed, "Config file not specified and none in save file");
    return o;
}

bool exists(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
}

// Xen's boot images live in /usr/lib/xen/boot; a host without them gets the sim's
// placeholders from DIR/boot (made by `xensim up`). Anything else must exist, as the
// domain builder opens it.
// A boot image as the domain builder finds it: the path itself or the sim's placeholder.
bool imageExists(const Host& host, const std::string& path) {
    const std::string bootDir = "/usr/lib/xen/boot/";
    return exists(path) || (path.rfind(bootDir, 0) == 0 &&
                            exists(host.path("boot/" + path.substr(bootDir.size()))));
}

void checkKernel(const Host& host, const GuestSpec& g) {
    if (g.hvm)
        return;
    if (!g.kernel)
        fail(kExitCreateFailed, "libxl: error: libxl_dom.c: no kernel for PV guest " + g.name);
    const std::string& k = *g.kernel;
    if (!imageExists(host, k))
        fail(kExitCreateFailed,
             "xc: error: panic: xc_dom_core.c: failed to open file '" + k +
                 "': No such file or directory: Internal error\n"
                 "libxl: error: libxl_dom.c: xc_dom_kernel_file failed: No such file or directory\n"
                 "libxl: error: libxl_create.c: cannot (re-)build domain: -3");
    // libxl__build_dom loads the ramdisk as a module right after the kernel.
    if (g.ramdisk && !g.ramdisk->empty() && !imageExists(host, *g.ramdisk))
        fail(kExitCreateFailed,
             "xc: error: panic: xc_dom_core.c: failed to open file '" + *g.ramdisk +
                 "': No such file or directory: Internal error\n"
                 "libxl: error: libxl_dom.c: xc_dom_ramdisk_file failed: No such file or "
                 "directory\n"
                 "libxl: error: libxl_create.c: cannot (re-)build domain: -3");
}

// The fault xl-create-hold stops between libxl's two transactions, where a daemon that
// looks too early sees a domain without its memory nodes, until the test writes to and
// closes the FIFO the fault names (a blocking open and read: no clock involved).
void holdIfAsked(const Host& host, const GuestSpec& g) {
    std::string fifo;
    if (!host.fault("xl-create-hold", g.name, &fifo))
        return;
    int fd = open(fifo.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail(kExitFailure,
             "xensim: xl-create-hold: cannot open " + fifo + ": " + std::strerror(errno));
    char buf[64];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
        ;
    close(fd);
}

uint32_t allocateDomain(const Host& host, const GuestSpec& g) {
    DomainTable table(host, true);
    if (table.find(g.name))
        fail(kExitCreateFailed,
             "libxl: error: libxl_create.c: Domain name \"" + g.name + "\" already exists.");
    uint64_t need = g.memKib();
    uint64_t free = xsim_free_kib(host.dir().c_str(), &table.get());
    if (need > free)
        fail(kExitCreateFailed, "xensim: not enough free memory for " + g.name + ": needs " +
                                    std::to_string(need) + " KiB, host has " +
                                    std::to_string(free) + " KiB free\n" +
                                    "failed to free memory for the domain");
    xsim_dom d{};
    std::snprintf(d.name, sizeof d.name, "%s", g.name.c_str());
    // Xen creates domains paused; the toolstack unpauses them when they are built.
    d.flags = XSIM_F_PAUSED | (g.hvm ? XSIM_F_HVM : 0u);
    d.mem_kib = g.memKib();
    d.maxmem_kib = g.maxmemKib();
    d.vcpus = static_cast<unsigned>(g.vcpus);
    std::memcpy(d.handle, g.uuid.data(), sizeof d.handle);
    uint32_t domid = xsim_table_add(&table.get(), &d);
    if (domid == XSIM_NO_TARGET)
        fail(kExitCreateFailed, "libxl: error: libxl_create.c: cannot make domain: " +
                                    std::string(std::strerror(errno)));
    table.commit();
    return domid;
}

} // namespace

int mainCreate(const Args& args) {
    CreateOptions o = parseOptions(args);
    Host host;
    if (!o.quiet)
        std::fprintf(stderr, "Parsing config from %s\n", o.file.c_str());
    XlConfig cfg(o.file, o.extra);
    GuestSpec g = parseGuestSpec(cfg);
    if (o.dryrun)
        return 0;

    std::string why;
    if (host.fault("xl-create-fail", g.name, &why))
        fail(kExitCreateFailed,
             "libxl: error: libxl_create.c: cannot make domain " + g.name + ": " +
                 (why.empty() ? "creation refused (xensim fault xl-create-fail)" : why));
    checkKernel(host, g);

    XenStore xs;
    uint32_t domid = allocateDomain(host, g);
    try {
        makeDomainTree(xs, domid, g);
        holdIfAsked(host, g);
        finishDomainTree(xs, domid, g);
        addDevices(xs, domid, g);
        if (!xs.introduce(domid, kStoreMfn, kStorePort))
            fail(kExitCreateFailed, "libxl: error: libxl_dom.c: Domain " + std::to_string(domid) +
                                        ":xs_introduce_domain failed: " + std::strerror(errno));
        // xenconsoled notices the new domain and gives its console 0 a pty.
        if (!g.hvm && xsim_dom_start_console(host.dir().c_str(), domid))
            fail(kExitCreateFailed, "xensim: cannot start the console of domain " +
                                        std::to_string(domid) + ": " + std::strerror(errno));
        if (g.hvm && g.deviceModel)
            spawnDeviceModel(host, xs, g, domid);
        if (!o.paused && xsim_dom_unpause(host.dir().c_str(), domid))
            fail(kExitCreateFailed, "libxl: error: libxl_domain.c: Domain " +
                                        std::to_string(domid) +
                                        ":unpausing domain: " + std::strerror(errno));
    } catch (const XlError&) {
        destroyDomain(host, xs, domid);
        throw;
    }
    return 0;
}

} // namespace xensim
