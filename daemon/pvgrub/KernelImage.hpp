// What kind of kernel a file is, and so its bitness: a plain ELF (vmlinux, or a PV-GRUB
// image), a gzip-compressed ELF (vmlinuz.gz, pv-grub-*.gz), or a bzImage (vmlinuz),
// which wraps a compressed ELF that the domain builder unpacks. Only file headers are
// read, however large the file.
#pragma once

#include "core/PvGrub.hpp"

#include <string>

namespace stubdomd::pvgrub {

// Throws Error(InvalidConfig, "cannot read PATH: <why>") when the file is missing,
// unreadable or not a regular file (and Error(AccessDenied) for a caller other than root
// naming a file it could not read, see CallerFile); an unrecognised format is a
// KernelFormat without arch and with the problem said.
KernelFormat identifyKernel(const std::string& path, bool callerIsRoot = true);

class KernelFileAccess final : public KernelFiles {
public:
    explicit KernelFileAccess(bool callerIsRoot = true) : callerIsRoot_(callerIsRoot) {}
    bool isFile(const std::string& path) override;
    KernelFormat identify(const std::string& path) override {
        return identifyKernel(path, callerIsRoot_);
    }

private:
    bool callerIsRoot_;
};

} // namespace stubdomd::pvgrub
