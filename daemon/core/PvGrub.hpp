// PV-GRUB, the README's second system: PV guests boot through a GRUB that runs inside
// the guest instead of pygrub in dom0. These are the rules that need no file access:
// the images and their names, the menu location given in `extra`, and the 32/64-bit
// match the README's "Limitations" warn about (a 64-bit kernel cannot be booted by a
// 32-bit PV-GRUB, nor the reverse).
#pragma once

#include "Errors.hpp"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stubdomd::pvgrub {

enum class Arch { X86_32, X86_64 };
std::string_view toString(Arch arch);                      // "x86_32", "x86_64"
std::string_view bitsOf(Arch arch);                        // "32-bit", "64-bit"
std::optional<Arch> archFromString(std::string_view text); // exactly x86_32 or x86_64

// Xen's own PV-GRUB (GRUB legacy, stubdom/grub, "pv-grub-x86_64.gz") or GRUB 2's Xen
// port (Debian's grub-xen-host, "grub-x86_64-xen.bin").
enum class Loader { PvGrub, Grub2 };
std::string_view toString(Loader loader); // "pv-grub", "grub2"
std::optional<Loader> loaderFromString(std::string_view text);

// Where the images are installed.
struct ImageDirs {
    std::string xenBoot = "/usr/lib/xen/boot"; // Xen's firmware dir: pv-grub-x86_{32,64}.gz
    std::string grubXen = "/usr/lib/grub-xen"; // grub-xen-host: grub-{i386,x86_64}-xen.bin
};

// A PV-GRUB image recognised by its file name. The unsuffixed pv-grub.gz of the README
// names no architecture: its bitness comes from the image's own ELF class.
struct ImageName {
    Loader loader = Loader::PvGrub;
    std::optional<Arch> arch;
};
// nullopt: the file name is none of pv-grub.gz, pv-grub-x86_32.gz, pv-grub-x86_64.gz,
// grub-i386-xen.bin, grub-x86_64-xen.bin (so the kernel is not a PV-GRUB image).
std::optional<ImageName> recogniseImage(std::string_view kernelPath);
// The standard image of `loader` for `arch` in `dirs`.
std::string imagePath(const ImageDirs& dirs, Loader loader, Arch arch);

// What a kernel file turned out to be (daemon/pvgrub reads it).
struct KernelFormat {
    std::optional<Arch> arch; // nullopt: not recognised
    std::string description;  // "gzip-compressed ELF64 x86-64", "bzImage (...)", ...
    std::string problem;      // when arch is unset: why, for the user
};

// File access the rules need; daemon/pvgrub implements it, tests fake it.
class KernelFiles {
public:
    virtual ~KernelFiles() = default;
    // A regular file exists at `path`.
    virtual bool isFile(const std::string& path) = 0;
    // Throws Error(InvalidConfig) when the file cannot be read.
    virtual KernelFormat identify(const std::string& path) = 0;
};

// ---------------------------------------------------------------------------
// The menu location, the `extra` of the guest's config as PV-GRUB reads it:
//   (hdN)/path or (hdN,M)/path  the guest's disk N (partition M, from 0), as it sees it
//   (nd)/path                   over TFTP (PV-GRUB does DHCP itself)
//   empty                       the path comes from DHCP option 150
enum class MenuSource { Disk, Network, Dhcp };
std::string_view toString(MenuSource source); // "disk", "network", "dhcp"

struct MenuLocation {
    MenuSource source = MenuSource::Dhcp;
    unsigned disk = 0;
    std::optional<unsigned> partition;
    std::string path;
};

// A malformed menu location; column counts from 1 in the value of `extra`.
class MenuSyntaxError : public Error {
public:
    MenuSyntaxError(std::size_t column, const std::string& message)
        : Error(ErrorCode::InvalidConfig, message), column_(column) {}
    std::size_t column() const noexcept { return column_; }

private:
    std::size_t column_;
};

// Throws MenuSyntaxError("extra \"<value>\": column N: <why>").
MenuLocation parseMenuLocation(std::string_view extra);
// For a person: "partition 0 of disk hd0, /boot/grub/menu.lst", "TFTP, /x/menu.lst", ...
std::string describe(const MenuLocation& menu);

// ---------------------------------------------------------------------------
// A PV guest's xl config, the keys that matter here (daemon/xen reads it with libxlutil).
struct PvGuestConfig {
    std::string source; // the file
    std::string name;
    std::string type; // "pv", "pvh" or "hvm": xl's type, builder, or its default (pv)
    std::optional<std::string> kernel;
    std::optional<std::string> bootloader;
    std::optional<std::string> cmdline;
    std::optional<std::string> root;
    std::optional<std::string> extra;
    std::map<std::string, int> lines; // key → line of its (last) assignment
};

// The command line xl gives the kernel: `cmdline` if set, else "root=R" and `extra`
// joined by a space (libxl's rule); nullopt when none of the three is set.
std::optional<std::string> effectiveCmdline(const PvGuestConfig& config);

// An xl string value: "…" with backslash and double quote escaped.
std::string xlQuote(std::string_view value);

// ---------------------------------------------------------------------------
// Generating a configuration (stubdomctl pvgrub config, Manager.PvGrubConfig).
struct ConfigRequest {
    std::optional<Arch> arch; // stated by the user
    std::string guestKernel;  // or read from this kernel image ("" none)
    std::string menu;         // the menu location (extra); "" → DHCP option 150
    std::optional<Loader> loader;
    std::string image; // a PV-GRUB image chosen by path ("" → the standard one)
};

struct ImageStatus {
    std::string path;
    Loader loader = Loader::PvGrub;
    Arch arch = Arch::X86_64;
    bool installed = false;
};

struct ConfigResult {
    std::string image; // kernel = "<image>"
    std::string extra;
    Arch arch = Arch::X86_64;
    std::string archSource; // how the guest's bitness is known
    Loader loader = Loader::PvGrub;
    bool imageInstalled = false;
    MenuSource menuSource = MenuSource::Dhcp;
    std::vector<std::string> warnings;
    std::vector<ImageStatus> images; // every standard image, installed or not

    std::string kernelLine() const { return "kernel = " + xlQuote(image); }
    std::string extraLine() const { return "extra = " + xlQuote(extra); }
};

// ---------------------------------------------------------------------------
// Checking a PV guest's config (stubdomctl pvgrub check, Manager.PvGrubCheck).
struct Finding {
    std::string code; // not-pv, not-pv-grub, image-missing, arch-mismatch, bad-extra, ...
    std::string message;
};

struct CheckReport {
    std::string source;
    std::string name;
    bool pvGrub = false; // the kernel is a PV-GRUB image
    std::string kernel;
    std::optional<Loader> loader;
    bool imageInstalled = false;
    std::optional<Arch> imageArch;
    std::string imageArchSource;
    std::optional<std::string> extra; // the command line PV-GRUB gets
    std::optional<MenuSource> menuSource;
    std::string menu;              // describe() of the menu location
    std::vector<Finding> problems; // each one keeps the guest from booting as meant
    std::vector<std::string> warnings;
    std::vector<ImageStatus> images;
    bool ok() const { return problems.empty(); }
};

class Rules {
public:
    Rules(ImageDirs dirs, KernelFiles& files) : dirs_(std::move(dirs)), files_(files) {}

    // Throws Error(InvalidArgs) for a request that says too little or contradicts
    // itself, Error(InvalidConfig) for a malformed menu, an unreadable or unrecognised
    // kernel, or a bitness mismatch (the message says which is which).
    ConfigResult config(const ConfigRequest& request);
    CheckReport check(const PvGuestConfig& config);
    std::vector<ImageStatus> images();

    const ImageDirs& dirs() const { return dirs_; }

private:
    struct ImageArch {
        std::optional<Arch> arch;
        std::string source; // "its name", "its ELF class (ELF64 x86-64)", or why unknown
    };
    ImageArch imageArch(const std::string& path, const ImageName& name);

    ImageDirs dirs_;
    KernelFiles& files_;
};

} // namespace stubdomd::pvgrub
