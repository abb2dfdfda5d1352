// The file system of the PV-GRUB rules for fuzzing: every image is installed unless its
// path says "missing", and a kernel's bitness is in its name ("64", "32").
#pragma once

#include "core/PvGrub.hpp"

#include <string>

namespace stubdomd::fuzz {

class KernelFilesByName final : public pvgrub::KernelFiles {
public:
    bool isFile(const std::string& path) override {
        return path.find("missing") == std::string::npos;
    }
    pvgrub::KernelFormat identify(const std::string& path) override {
        pvgrub::KernelFormat format;
        if (path.find("64") != std::string::npos)
            format.arch = pvgrub::Arch::X86_64;
        else if (path.find("32") != std::string::npos)
            format.arch = pvgrub::Arch::X86_32;
        else
            format.problem = "not a kernel";
        format.description = "a fuzzed kernel";
        return format;
    }
};

} // namespace stubdomd::fuzz
