#include "GuestSpec.h"

#include "XlError.h"

#define XENSIM_WANT_XLUTIL
#include "xen_cxx.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace xensim {

namespace {

std::vector<std::pair<std::string, std::string>> keyValues(const std::string& spec) {
    std::vector<std::pair<std::string, std::string>> out;
    std::stringstream ss(spec);
    std::string item;
    while (std::getline(ss, item, ',')) {
        auto b = item.find_first_not_of(" \t");
        if (b == std::string::npos)
            continue;
        item = item.substr(b, item.find_last_not_of(" \t") - b + 1);
        auto eq = item.find('=');
        if (eq == std::string::npos)
            out.emplace_back(item, "");
        else
            out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    }
    return out;
}

bool parseUuid(const std::string& s, std::array<uint8_t, 16>& out) {
    std::string hex;
    for (char c : s)
        if (c != '-')
            hex += c;
    if (hex.size() != 32 || s.size() != 36)
        return false;
    for (size_t i = 0; i < 16; i++) {
        unsigned v;
        if (std::sscanf(hex.c_str() + 2 * i, "%2x", &v) != 1)
            return false;
        out[i] = static_cast<uint8_t>(v);
    }
    return true;
}

std::array<uint8_t, 16> randomUuid() {
    std::array<uint8_t, 16> u{};
    std::ifstream("/dev/urandom", std::ios::binary).read(reinterpret_cast<char*>(u.data()), 16);
    u[6] = static_cast<uint8_t>((u[6] & 0x0f) | 0x40);
    u[8] = static_cast<uint8_t>((u[8] & 0x3f) | 0x80);
    return u;
}

std::string derivedMac(const std::array<uint8_t, 16>& uuid, size_t devid) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "00:16:3e:%02x:%02x:%02x", uuid[13] & 0x7f, uuid[14],
                  static_cast<uint8_t>(uuid[15] + devid));
    return buf;
}

Vif parseVif(const std::string& spec, const std::array<uint8_t, 16>& uuid, size_t devid) {
    Vif v;
    for (const auto& [k, val] : keyValues(spec)) {
        if (k == "mac")
            v.mac = val;
        else if (k == "ip")
            v.ip = val;
        else if (k == "bridge")
            v.bridge = val;
        else if (k == "model")
            v.model = val;
        else if (k == "script")
            v.script = val;
        else if (k == "type")
            v.type = val;
    }
    if (v.mac.empty())
        v.mac = derivedMac(uuid, devid);
    return v;
}

Display parseVfb(const std::string& spec) {
    Display d;
    d.vnclisten = "127.0.0.1";
    for (const auto& [k, val] : keyValues(spec)) {
        if (k == "type") {
            d.vnc = val == "vnc";
            d.sdl = val == "sdl";
        } else if (k == "vnc")
            d.vnc = val != "0";
        else if (k == "sdl")
            d.sdl = val != "0";
        else if (k == "vnclisten")
            d.vnclisten = val;
        else if (k == "vncdisplay")
            d.vncdisplay = std::atol(val.c_str());
        else if (k == "vncunused")
            d.vncunused = val != "0";
        else if (k == "vncpasswd")
            d.vncpasswd = val;
        else if (k == "keymap")
            d.keymap = val;
        else if (k == "opengl")
            d.opengl = val != "0";
    }
    return d;
}

Disk parseDisk(const XlConfig& cfg, const std::string& spec) {
    libxl_device_disk disk;
    libxl_device_disk_init(&disk);
    const char* specs[] = {spec.c_str()};
    int e = xlu_disk_parse(cfg.raw(), 1, specs, &disk);
    if (e) {
        libxl_device_disk_dispose(&disk);
        fail(kExitFailure, "");
    }
    Disk d;
    d.target = disk.pdev_path ? disk.pdev_path : "";
    d.vdev = disk.vdev ? disk.vdev : "";
    d.format = libxl_disk_format_to_string(disk.format);
    d.writable = disk.readwrite;
    d.cdrom = disk.is_cdrom;
    libxl_device_disk_dispose(&disk);
    return d;
}

} // namespace

std::string uuidString(const std::array<uint8_t, 16>& u) {
    char buf[40];
    std::snprintf(buf, sizeof buf,
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
                  u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
                  u[14], u[15]);
    return buf;
}

GuestSpec parseGuestSpec(const XlConfig& cfg) {
    GuestSpec g;
    auto name = cfg.string("name");
    if (!name)
        fail(kExitFailure, "Domain name must be specified.");
    g.name = *name;

    if (auto type = cfg.string("type")) {
        if (*type == "hvm")
            g.hvm = true;
        else if (*type != "pv")
            fail(kExitFailure, "Invalid domain type " + *type + ".");
    } else if (auto builder = cfg.string("builder")) {
        g.hvm = *builder == "hvm";
    }

    if (auto u = cfg.string("uuid")) {
        if (!parseUuid(*u, g.uuid))
            fail(kExitFailure, "Failed to parse UUID: " + *u);
    } else {
        g.uuid = randomUuid();
    }

    if (auto m = cfg.number("memory"))
        g.memoryMiB = g.maxmemMiB = *m;
    if (auto m = cfg.number("maxmem"))
        g.maxmemMiB = *m;
    if (auto v = cfg.number("vcpus"))
        g.vcpus = *v;

    g.kernel = cfg.string("kernel");
    g.ramdisk = cfg.string("ramdisk");
    if (auto c = cfg.string("cmdline")) {
        g.cmdline = c;
    } else {
        auto root = cfg.string("root");
        auto extra = cfg.string("extra");
        if (root || extra) {
            std::string s = root ? "root=" + *root : "";
            if (extra)
                s += (s.empty() ? "" : " ") + *extra;
            g.cmdline = s;
        }
    }

    if (auto vifs = cfg.list("vif"))
        for (size_t i = 0; i < vifs->size(); i++)
            g.vifs.push_back(parseVif((*vifs)[i], g.uuid, i));
    if (auto disks = cfg.list("disk"))
        for (const auto& d : *disks)
            g.disks.push_back(parseDisk(cfg, d));
    if (auto vfbs = cfg.list("vfb"))
        for (const auto& v : *vfbs)
            g.vfbs.push_back(parseVfb(v));

    if (!g.hvm)
        return g;

    g.display.vnc = cfg.flag("vnc", true);
    g.display.sdl = cfg.flag("sdl", false);
    g.display.vnclisten = cfg.string("vnclisten").value_or("127.0.0.1");
    g.display.vncdisplay = cfg.number("vncdisplay").value_or(0);
    g.display.vncunused = cfg.flag("vncunused", true);
    g.display.vncpasswd = cfg.string("vncpasswd").value_or("");
    g.display.keymap = cfg.string("keymap").value_or("");
    g.display.opengl = cfg.flag("opengl", false);
    if (auto s = cfg.list("serial", true))
        g.serial = *s;
    g.stdvga = cfg.flag("stdvga", false) || cfg.string("vga").value_or("") == "stdvga";
    g.boot = cfg.string("boot").value_or("cda");
    g.usb = cfg.flag("usb", false);
    if (auto u = cfg.list("usbdevice", true))
        g.usbdevices = *u;
    g.soundhw = cfg.string("soundhw");
    g.acpi = cfg.flag("acpi", true);
    g.xenPlatformPci = cfg.flag("xen_platform_pci", true);

    // xl 4.17 honours device_model_override; device_model is xend's key, which xl
    // ignores with a warning. The sim runs either, as xend did for the README's setup.
    auto version = cfg.string("device_model_version");
    if (auto dm = cfg.string("device_model_override")) {
        if (version.value_or("") != "qemu-xen-traditional")
            fail(kExitFailure, "xensim: device_model_override is only simulated with "
                               "device_model_version=\"qemu-xen-traditional\"");
        g.deviceModel = dm;
    } else if (auto dm = cfg.string("device_model")) {
        std::fprintf(stderr,
                     "xensim: running device_model %s as xend did "
                     "(real xl 4.17 ignores it; use device_model_override)\n",
                     dm->c_str());
        g.deviceModel = dm;
    }
    if (auto args = cfg.list("device_model_args"))
        g.deviceModelArgs = *args;
    if (auto args = cfg.list("device_model_args_hvm"))
        g.deviceModelArgs.insert(g.deviceModelArgs.end(), args->begin(), args->end());

    // libxl's video memory defaults: qemu-traditional's Cirrus has exactly 4 MiB, its
    // std VGA and qemu-xen's cards at least 8.
    bool traditional = g.deviceModel.has_value();
    long dflt = (traditional && !g.stdvga) ? 4 : 8;
    g.videoMiB = cfg.number("videoram").value_or(dflt);
    return g;
}

} // namespace xensim
