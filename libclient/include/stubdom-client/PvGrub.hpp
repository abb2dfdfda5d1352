// PV-GRUB through stubdomd: what Manager.PvGrubConfig and Manager.PvGrubCheck take and
// answer (org.xen.Stubdom(5) documents every key), as plain structs.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace stubdom {

struct PvGrubImage {
    std::string path;
    std::string loader; // pv-grub, grub2
    std::string arch;   // x86_32, x86_64
    bool installed = false;
};

// An unset field is not sent. arch or guestKernel is required; paths must be absolute.
struct PvGrubRequest {
    std::optional<std::string> arch;        // x86_32, x86_64
    std::optional<std::string> guestKernel; // a kernel image whose bitness is read
    std::optional<std::string> menu;        // (hdN[,M])/path, (nd)/path or empty
    std::optional<std::string> loader;      // pv-grub (default), grub2
    std::optional<std::string> image;       // a PV-GRUB image by path
};

struct PvGrubConfig {
    std::string kernel;
    std::string extra;
    std::string kernelLine; // kernel = "..."
    std::string extraLine;  // extra = "..."
    std::string arch;
    std::string archSource;
    std::string loader;
    bool imageInstalled = false;
    std::string menuSource; // disk, network, dhcp; empty for grub2
    std::vector<std::string> warnings;
    std::vector<PvGrubImage> images;
};

struct PvGrubProblem {
    std::string code; // not-pv, not-pv-grub, bootloader, image-missing, bad-extra
    std::string message;
};

struct PvGrubReport {
    std::string path;
    std::string name;
    bool ok = false;
    bool pvGrub = false;
    std::string kernel;
    std::string loader; // empty: not a PV-GRUB image
    bool imageInstalled = false;
    std::string imageArch; // empty: unknown
    std::string imageArchSource;
    std::string extra;
    std::string menuSource;
    std::string menu;
    std::vector<PvGrubProblem> problems;
    std::vector<std::string> warnings;
    std::vector<PvGrubImage> images;
};

} // namespace stubdom
