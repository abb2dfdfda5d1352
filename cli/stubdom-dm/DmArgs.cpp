#include "DmArgs.hpp"

#include <algorithm>
#include <set>

namespace stubdom::dm {

namespace {

// Options of qemu-traditional (and of upstream qemu, in case a toolstack passes those)
// that take a value: skipping one must skip its value too, whatever the value looks like.
const std::set<std::string> kWithValue = {
    "-d",        "-domain-name", "-videoram",   "-vnc",        "-k",       "-serial",  "-monitor",
    "-parallel", "-boot",        "-vcpus",      "-vcpu_avail", "-net",     "-soundhw", "-usbdevice",
    "-M",        "-m",           "-hda",        "-hdb",        "-hdc",     "-hdd",     "-cdrom",
    "-fda",      "-fdb",         "-pidfile",    "-name",       "-pci",     "-acpi_s3", "-acpi_s4",
    "-loadvm",   "-bios",        "-option-rom", "-xen-domid",  "-chardev", "-mon",     "-display",
    "-vga",      "-device",      "-drive",      "-machine",    "-global",  "-smp",     "-spice",
    "-qmp",      "-runas",       "-incoming",   "-append",     "-kernel",  "-initrd",  "-rtc",
    "-uuid",     "-netdev",      "-object",     "-audiodev",   "-sandbox", "-cpu",     "-L",
    "-trace"};

// Flags qemu-traditional takes: never followed by a value of theirs.
const std::set<std::string> kFlags = {"-vncunused",
                                      "-sdl",
                                      "-nographic",
                                      "-std-vga",
                                      "-cirrusvga",
                                      "-gfx_passthru",
                                      "-acpi",
                                      "-usb",
                                      "-localtime",
                                      "-full-screen",
                                      "-disable-opengl",
                                      "-vncviewer",
                                      "-S",
                                      "-xen-attach",
                                      "-no-shutdown",
                                      "-nodefaults",
                                      "-no-user-config",
                                      "-no-reboot",
                                      "-snapshot",
                                      "-daemonize",
                                      "-no-quit",
                                      "-alt-grab",
                                      "-ctrl-grab",
                                      "-no-hpet",
                                      "-no-acpi",
                                      "-no-fd-bootchk",
                                      "-enable-kvm",
                                      "-help",
                                      "-version"};

std::uint32_t parseDomid(const std::string& text) {
    if (text.empty() || text.size() > 10 ||
        text.find_first_not_of("0123456789") != std::string::npos) {
        throw UsageError("-d wants a domain id, not '" + text + "'");
    }
    auto value = std::stoull(text);
    // 0x7FF0 and up are Xen's special domids (DOMID_FIRST_RESERVED).
    if (value == 0 || value >= 0x7FF0) {
        throw UsageError("-d " + text + " is not a guest's domain id");
    }
    return static_cast<std::uint32_t>(value);
}

std::uint32_t parseMiB(const std::string& option, const std::string& text) {
    if (text.empty() || text.size() > 9 ||
        text.find_first_not_of("0123456789") != std::string::npos) {
        throw UsageError(option + " wants a number of MiB, not '" + text + "'");
    }
    return static_cast<std::uint32_t>(std::stoul(text));
}

} // namespace

DmArgs parseDmArgs(const std::vector<std::string>& args) {
    DmArgs result;
    bool haveDomid = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& arg = args[i];
        if (arg == "-h" || arg == "--help" || arg == "-help") {
            result.help = true;
            continue;
        }
        if (kWithValue.count(arg) != 0) {
            if (i + 1 >= args.size()) {
                throw UsageError(arg + " wants a value");
            }
            const auto& value = args[++i];
            if (arg == "-d" || arg == "-xen-domid") {
                result.domid = parseDomid(value);
                haveDomid = true;
            } else if (arg == "-domain-name" || (arg == "-name" && result.domainName.empty())) {
                result.domainName = value;
            } else if (arg == "-vnc") {
                auto comma = value.find(',');
                result.display.vnc = value.substr(0, comma);
                result.display.vncPassword = comma != std::string::npos &&
                                             value.find("password", comma) != std::string::npos;
            } else if (arg == "-k") {
                result.display.keymap = value;
            } else if (arg == "-videoram") {
                result.display.videoramMiB = parseMiB(arg, value);
            } else {
                result.ignored.push_back(arg + " " + value);
            }
            continue;
        }
        if (arg == "-vncunused") {
            result.display.vncUnused = true;
        } else if (arg == "-sdl") {
            result.display.sdl = true;
        } else if (arg == "-nographic") {
            result.display.noGraphic = true;
        } else if (kFlags.count(arg) != 0) {
            result.ignored.push_back(arg);
        } else if (arg.size() > 1 && arg[0] == '-') {
            // Unknown: a following word that is not an option is taken as its value,
            // which is how every qemu-traditional option with a value is written.
            if (i + 1 < args.size() && (args[i + 1].empty() || args[i + 1][0] != '-')) {
                result.ignored.push_back(arg + " " + args[++i]);
            } else {
                result.ignored.push_back(arg);
            }
        } else {
            result.ignored.push_back(arg); // a positional disk image
        }
    }
    if (!haveDomid && !result.help) {
        throw UsageError("missing -d DOMID (the HVM guest's domain id)");
    }
    return result;
}

std::string usage() {
    return "usage: stubdom-dm -d DOMID [-domain-name NAME] [qemu-traditional options…]\n"
           "\n"
           "The device-model helper the Xen toolstack runs for an HVM guest whose config\n"
           "has device_model = '/usr/lib/xen/bin/stubdom-dm' (xend) or\n"
           "device_model_override (xl). It asks stubdomd to run the guest's ioemu stub\n"
           "domain (org.xen.Stubdom.Manager.Attach), stays in the foreground while the\n"
           "guest lives, and stops the stub domain on SIGTERM or SIGHUP.\n"
           "The display options -vnc ADDR:DISPLAY, -vncunused, -sdl, -k KEYMAP and\n"
           "-videoram MIB are passed on to Attach; other qemu options (-serial, -M …)\n"
           "are accepted and ignored.\n"
           "\n"
           "Exit status: 0 the guest was destroyed or stubdom-dm was told to stop;\n"
           "1 the stub domain could not be started or failed; 2 bad usage.\n";
}

} // namespace stubdom::dm
