#include "core/PvGrub.hpp"
#include "core/Excerpt.hpp"

#include <algorithm>
#include <cctype>

namespace stubdomd::pvgrub {

namespace {

struct KnownImage {
    std::string_view file;
    Loader loader;
    std::optional<Arch> arch;
};

// Xen's names (stubdom/Makefile installs pv-grub-$(XEN_TARGET_ARCH).gz; the README
// writes pv-grub.gz, which a distribution may provide as a link) and Debian's
// grub-xen-host names. grub-i386-xen_pvh.bin is for PVH guests, not PV: not listed.
constexpr KnownImage kKnownImages[] = {
    {"pv-grub-x86_32.gz", Loader::PvGrub, Arch::X86_32},
    {"pv-grub-x86_64.gz", Loader::PvGrub, Arch::X86_64},
    {"pv-grub.gz", Loader::PvGrub, std::nullopt},
    {"grub-i386-xen.bin", Loader::Grub2, Arch::X86_32},
    {"grub-x86_64-xen.bin", Loader::Grub2, Arch::X86_64},
};

std::string joinPath(const std::string& dir, std::string_view file) {
    std::string path = dir;
    if (path.empty() || path.back() != '/')
        path += '/';
    return path + std::string(file);
}

// A value shown inside a message: control characters would garble a log line.
std::string shown(std::string_view value) {
    std::string out;
    for (char c : value)
        out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
    return out;
}

std::string lineOf(const PvGuestConfig& config, const std::string& key) {
    auto found = config.lines.find(key);
    if (found == config.lines.end())
        return config.source;
    return config.source + ":" + std::to_string(found->second);
}

std::string installHint(Loader loader) {
    if (loader == Loader::Grub2)
        return "GRUB 2's Xen images come with Debian's grub-xen-host package";
    return "Xen's PV-GRUB images come from a Xen build with stubdom (the 32-bit one with "
           "XEN_TARGET_ARCH=x86_32)";
}

std::string installedList(const std::vector<ImageStatus>& images) {
    std::string list;
    for (const auto& image : images)
        if (image.installed)
            list += (list.empty() ? "" : ", ") + image.path;
    return list.empty() ? "no PV-GRUB image is installed" : "installed: " + list;
}

std::string mismatch(Arch kernel, const std::string& kernelSource, const std::string& image,
                     Arch imageArch, const std::string& imageSource, const std::string& fix) {
    return "bitness mismatch: the guest's kernel is " + std::string(bitsOf(kernel)) + " (" +
           std::string(toString(kernel)) + ", from " + kernelSource + ") but the PV-GRUB image " +
           image + " is " + std::string(bitsOf(imageArch)) + " (" +
           std::string(toString(imageArch)) + ", from " + imageSource + "); a " +
           std::string(bitsOf(imageArch)) + " PV-GRUB cannot boot a " +
           std::string(bitsOf(kernel)) + " kernel: use " + fix;
}

} // namespace

std::string_view toString(Arch arch) {
    return arch == Arch::X86_32 ? "x86_32" : "x86_64";
}

std::string_view bitsOf(Arch arch) {
    return arch == Arch::X86_32 ? "32-bit" : "64-bit";
}

std::optional<Arch> archFromString(std::string_view text) {
    if (text == "x86_32")
        return Arch::X86_32;
    if (text == "x86_64")
        return Arch::X86_64;
    return std::nullopt;
}

std::string_view toString(Loader loader) {
    return loader == Loader::PvGrub ? "pv-grub" : "grub2";
}

std::optional<Loader> loaderFromString(std::string_view text) {
    if (text == "pv-grub")
        return Loader::PvGrub;
    if (text == "grub2")
        return Loader::Grub2;
    return std::nullopt;
}

std::string_view toString(MenuSource source) {
    switch (source) {
    case MenuSource::Disk:
        return "disk";
    case MenuSource::Network:
        return "network";
    case MenuSource::Dhcp:
        return "dhcp";
    }
    return "dhcp";
}

std::optional<ImageName> recogniseImage(std::string_view kernelPath) {
    auto slash = kernelPath.rfind('/');
    std::string_view file =
        slash == std::string_view::npos ? kernelPath : kernelPath.substr(slash + 1);
    for (const auto& known : kKnownImages)
        if (file == known.file)
            return ImageName{known.loader, known.arch};
    return std::nullopt;
}

std::string imagePath(const ImageDirs& dirs, Loader loader, Arch arch) {
    for (const auto& known : kKnownImages)
        if (known.loader == loader && known.arch == arch)
            return joinPath(loader == Loader::PvGrub ? dirs.xenBoot : dirs.grubXen, known.file);
    return {}; // unreachable: every loader has both architectures
}

// ---------------------------------------------------------------------------
// The menu location

MenuLocation parseMenuLocation(std::string_view extra) {
    MenuLocation menu;
    if (extra.empty())
        return menu; // DHCP option 150
    // PV-GRUB gets extra as its command line, which Xen cuts at MAX_GUEST_CMDLINE.
    constexpr std::size_t kMaxGuestCmdline = 1024;
    if (extra.size() >= kMaxGuestCmdline)
        throw MenuSyntaxError(kMaxGuestCmdline, "extra \"" + shown(excerpt(extra)) +
                                                    "\": " + std::to_string(extra.size()) +
                                                    " bytes, but Xen passes at most " +
                                                    std::to_string(kMaxGuestCmdline - 1) +
                                                    " of a guest's command line");
    const std::size_t n = extra.size();
    auto fail = [&](std::size_t index, const std::string& why) {
        std::string where = "column " + std::to_string(index + 1);
        if (index >= n)
            where += " (the end)";
        throw MenuSyntaxError(index + 1, "extra \"" + shown(extra) + "\": " + where + ": " + why);
    };
    auto digit = [&](std::size_t i) {
        return i < n && std::isdigit(static_cast<unsigned char>(extra[i]));
    };
    // GRUB legacy numbers its disks and partitions from 0; 255 is far above any guest.
    auto number = [&](std::size_t& i, const char* what) {
        const std::size_t start = i;
        unsigned value = 0;
        while (digit(i)) {
            value = value * 10 + static_cast<unsigned>(extra[i] - '0');
            if (value > 255)
                fail(start, std::string(what) + " number too large (at most 255)");
            ++i;
        }
        return value;
    };

    if (extra[0] != '(')
        fail(0, "a menu location starts with the device: (hdN[,M]) for the guest's disk N "
                "(partition M), or (nd) for TFTP, e.g. (hd0,0)/boot/grub/menu.lst");
    std::size_t i = 1;
    const std::size_t nameStart = i;
    while (i < n && std::isalpha(static_cast<unsigned char>(extra[i])))
        ++i;
    const std::string_view name = extra.substr(nameStart, i - nameStart);
    if (name == "nd") {
        if (i >= n || extra[i] != ')')
            fail(i, "expected ')' after (nd");
        menu.source = MenuSource::Network;
    } else if (name == "hd") {
        if (!digit(i))
            fail(i, "expected the disk number after (hd, e.g. (hd0,0)");
        menu.source = MenuSource::Disk;
        menu.disk = number(i, "disk");
        if (i < n && extra[i] == ',') {
            ++i;
            if (!digit(i))
                fail(i, "expected a partition number after ',' (partitions count from 0)");
            menu.partition = number(i, "partition");
        }
        if (i >= n || extra[i] != ')')
            fail(i, menu.partition ? "expected ')' after the partition number"
                                   : "expected ',' and a partition number, or ')'");
    } else {
        std::size_t end = nameStart;
        while (end < n && extra[end] != ')' && extra[end] != ',' && extra[end] != '/')
            ++end;
        if (name.empty() && end == nameStart)
            fail(nameStart, "expected a device name: hd (a disk) or nd (the network)");
        fail(nameStart, "unknown device '" + shown(extra.substr(nameStart, end - nameStart)) +
                            "': PV-GRUB reads the guest's disks, (hdN[,M]), or the network, (nd)");
    }
    ++i; // the ')'
    if (i >= n)
        fail(i, "expected the menu file's path after the device, e.g. /boot/grub/menu.lst");
    if (extra[i] != '/')
        fail(i, "the path after the device must start with '/'");
    for (std::size_t j = i; j < n; ++j) {
        const auto c = static_cast<unsigned char>(extra[j]);
        if (c == ' ' || c == '\t')
            fail(j, "a space in the menu path (PV-GRUB takes the whole of extra as the path)");
        if (c < 0x20 || c == 0x7f)
            fail(j, "a control character in the menu path");
        if (c == '"' || c == '\'' || c == '\\')
            fail(j, "quotes and backslashes are not allowed in the menu path");
    }
    if (extra.back() == '/')
        fail(n - 1, "the path names a directory; name the menu file, e.g. /boot/grub/menu.lst");
    menu.path = std::string(extra.substr(i));
    return menu;
}

std::string describe(const MenuLocation& menu) {
    switch (menu.source) {
    case MenuSource::Disk:
        return (menu.partition ? "partition " + std::to_string(*menu.partition) + " of disk hd" +
                                     std::to_string(menu.disk)
                               : "disk hd" + std::to_string(menu.disk) + " (no partition)") +
               ", " + menu.path;
    case MenuSource::Network:
        return "TFTP (PV-GRUB does DHCP), " + menu.path;
    case MenuSource::Dhcp:
        return "the path given by the DHCP server (option 150)";
    }
    return {};
}

// ---------------------------------------------------------------------------
// xl

std::optional<std::string> effectiveCmdline(const PvGuestConfig& config) {
    if (config.cmdline)
        return config.cmdline;
    if (!config.root && !config.extra)
        return std::nullopt;
    std::string line = config.root ? "root=" + *config.root : "";
    if (config.extra)
        line += (line.empty() ? "" : " ") + *config.extra;
    return line;
}

std::string xlQuote(std::string_view value) {
    std::string out = "\"";
    for (char c : value) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "\"";
}

// ---------------------------------------------------------------------------
// Rules

Rules::ImageArch Rules::imageArch(const std::string& path, const ImageName& name) {
    if (name.arch)
        return {name.arch, "its name"};
    // The unsuffixed pv-grub.gz: the image is a (gzip-compressed) ELF kernel itself,
    // and its class is the bitness it was built for.
    if (!files_.isFile(path))
        return {std::nullopt, "its name does not say and the file is missing"};
    try {
        KernelFormat format = files_.identify(path);
        if (format.arch)
            return {format.arch, "its ELF class (" + format.description + ")"};
        return {std::nullopt, "its name does not say and " + format.problem};
    } catch (const Error& e) {
        return {std::nullopt, std::string("its name does not say and ") + e.what()};
    }
}

std::vector<ImageStatus> Rules::images() {
    std::vector<ImageStatus> list;
    for (Loader loader : {Loader::PvGrub, Loader::Grub2})
        for (Arch arch : {Arch::X86_32, Arch::X86_64}) {
            ImageStatus status;
            status.path = imagePath(dirs_, loader, arch);
            status.loader = loader;
            status.arch = arch;
            status.installed = files_.isFile(status.path);
            list.push_back(std::move(status));
        }
    return list;
}

ConfigResult Rules::config(const ConfigRequest& request) {
    if (!request.arch && request.guestKernel.empty())
        throw Error(ErrorCode::InvalidArgs,
                    "give the guest kernel's architecture (arch: x86_32 or x86_64) or a kernel "
                    "image to read it from (guest_kernel)");
    ConfigResult result;
    if (!request.guestKernel.empty()) {
        KernelFormat format = files_.identify(request.guestKernel);
        if (!format.arch)
            throw Error(ErrorCode::InvalidConfig, "cannot tell the bitness of " +
                                                      request.guestKernel + ": " + format.problem +
                                                      "; give the architecture instead (arch)");
        if (request.arch && *request.arch != *format.arch)
            throw Error(ErrorCode::InvalidConfig,
                        "the architecture given is " + std::string(toString(*request.arch)) +
                            " but the kernel " + request.guestKernel + " is " +
                            std::string(bitsOf(*format.arch)) + " (" + format.description + ")");
        result.arch = *format.arch;
        result.archSource = "the kernel " + request.guestKernel + " (" + format.description + ")";
    } else {
        result.arch = *request.arch;
        result.archSource = "the architecture given";
    }

    const MenuLocation menu = parseMenuLocation(request.menu);
    result.loader = request.loader.value_or(Loader::PvGrub);
    if (!request.image.empty()) {
        auto name = recogniseImage(request.image);
        if (!name)
            throw Error(ErrorCode::InvalidConfig,
                        request.image + " is not a PV-GRUB image (known names: pv-grub.gz, "
                                        "pv-grub-x86_32.gz, pv-grub-x86_64.gz, grub-i386-xen.bin, "
                                        "grub-x86_64-xen.bin)");
        if (request.loader && *request.loader != name->loader)
            throw Error(ErrorCode::InvalidArgs, "the loader given is " +
                                                    std::string(toString(*request.loader)) +
                                                    " but " + request.image + " is a " +
                                                    std::string(toString(name->loader)) + " image");
        result.loader = name->loader;
        result.image = request.image;
        const ImageArch image = imageArch(request.image, *name);
        if (image.arch && *image.arch != result.arch)
            throw Error(ErrorCode::InvalidConfig,
                        mismatch(result.arch, result.archSource, request.image, *image.arch,
                                 image.source, imagePath(dirs_, name->loader, result.arch)));
        if (!image.arch)
            result.warnings.push_back("cannot tell the bitness of " + request.image + " (" +
                                      image.source + "); make sure it is the " +
                                      std::string(toString(result.arch)) + " build");
    } else {
        result.image = imagePath(dirs_, result.loader, result.arch);
    }
    if (result.loader == Loader::Grub2 && menu.source != MenuSource::Dhcp)
        throw Error(ErrorCode::InvalidConfig,
                    "GRUB 2's Xen images do not take a menu location from extra: they run their "
                    "built-in configuration, which looks for the guest's grub.cfg on its disks; "
                    "leave the menu out, or use the pv-grub loader");
    result.extra = request.menu;
    result.menuSource = menu.source;
    result.images = images();
    result.imageInstalled = files_.isFile(result.image);
    if (!result.imageInstalled)
        result.warnings.push_back(result.image + " is not installed (" +
                                  installedList(result.images) + "); " +
                                  installHint(result.loader));
    return result;
}

CheckReport Rules::check(const PvGuestConfig& config) {
    CheckReport report;
    report.source = config.source;
    report.name = config.name;
    report.kernel = config.kernel.value_or("");
    report.images = images();
    if (config.type != "pv") {
        report.problems.push_back(
            {"not-pv", lineOf(config, config.lines.count("type") ? "type" : "builder") +
                           ": the guest is of type " + config.type +
                           ", not pv: PV-GRUB boots PV guests only"});
        return report;
    }
    if (!config.kernel) {
        report.problems.push_back(
            {"not-pv-grub", config.source +
                                ": no kernel line, so the guest does not boot "
                                "through PV-GRUB (kernel = " +
                                xlQuote(imagePath(dirs_, Loader::PvGrub, Arch::X86_64)) + ")"});
        return report;
    }
    const auto name = recogniseImage(*config.kernel);
    if (!name) {
        std::string message = lineOf(config, "kernel") + ": the kernel " + *config.kernel +
                              " is not a PV-GRUB image, so the guest boots it directly";
        // A direct kernel that can be read says which PV-GRUB image would boot it.
        try {
            KernelFormat format = files_.identify(*config.kernel);
            if (format.arch)
                message += "; it is " + std::string(bitsOf(*format.arch)) + " (" +
                           format.description + "): to boot the guest's own kernel through " +
                           "PV-GRUB use kernel = " +
                           xlQuote(imagePath(dirs_, Loader::PvGrub, *format.arch));
        } catch (const Error&) {
        }
        report.problems.push_back({"not-pv-grub", message});
        return report;
    }
    report.pvGrub = true;
    report.loader = name->loader;
    if (config.bootloader)
        report.problems.push_back(
            {"bootloader", lineOf(config, "bootloader") +
                               ": bootloader = " + xlQuote(*config.bootloader) +
                               " is set: xl runs it instead of booting the PV-GRUB kernel; "
                               "remove the bootloader line"});
    report.imageInstalled = files_.isFile(*config.kernel);
    if (!report.imageInstalled)
        report.problems.push_back(
            {"image-missing", lineOf(config, "kernel") + ": the PV-GRUB image " + *config.kernel +
                                  " is not installed (" + installedList(report.images) + "); " +
                                  installHint(name->loader)});
    const ImageArch image = imageArch(*config.kernel, *name);
    report.imageArch = image.arch;
    report.imageArchSource = image.source;
    if (!image.arch && report.imageInstalled)
        report.warnings.push_back("cannot tell the bitness of " + *config.kernel + " (" +
                                  image.source + ")");

    report.extra = effectiveCmdline(config);
    if (name->loader == Loader::Grub2) {
        if (report.extra && !report.extra->empty())
            report.warnings.push_back(
                "GRUB 2's Xen image does not take a menu location from the command line \"" +
                shown(*report.extra) +
                "\": it runs its built-in configuration, which looks for the guest's grub.cfg");
        return report;
    }
    const std::string key = config.cmdline ? "cmdline" : config.extra ? "extra" : "root";
    try {
        const MenuLocation menu = parseMenuLocation(report.extra.value_or(""));
        report.menuSource = menu.source;
        report.menu = describe(menu);
    } catch (const MenuSyntaxError& e) {
        std::string message = lineOf(config, key) + ": " + e.what();
        if (!config.cmdline && config.root)
            message += " (xl puts root=" + shown(*config.root) +
                       " before extra, and PV-GRUB reads the whole command line as the menu "
                       "path: remove the root line)";
        report.problems.push_back({"bad-extra", message});
    }
    return report;
}

} // namespace stubdomd::pvgrub
