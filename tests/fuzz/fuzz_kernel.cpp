// Kernel images (daemon/pvgrub/KernelImage): the headers of a file a caller names to
// PvGrubConfig (guest_kernel) and of the images in the boot directories: plain and
// gzip-compressed ELF, bzImages and their payloads, read at offsets the file itself gives.
// Any file is a format with an arch, or one without and a problem said; reading a regular
// file stubdomd may read never throws.
#include "FuzzCheck.hpp"
#include "pvgrub/KernelImage.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

using namespace stubdomd;

namespace {

std::string temporaryDir;

void removeTemporaryDir() {
    ::unlink((temporaryDir + "/kernel").c_str());
    ::rmdir(temporaryDir.c_str());
}

// One file, rewritten for each input: identifyKernel reads through a path, as the daemon
// does. Removed when libFuzzer exits.
const std::string& kernelPath() {
    static const std::string path = [] {
        std::string dir = "/tmp/stubdomd-fuzz-kernel-XXXXXX";
        if (!::mkdtemp(dir.data()))
            fuzz::finding("cannot make a temporary directory");
        temporaryDir = dir;
        std::atexit(removeTemporaryDir);
        return dir + "/kernel";
    }();
    return path;
}

void writeFile(const std::string& path, const std::uint8_t* data, std::size_t size) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        fuzz::finding("cannot write " + path);
    std::size_t done = 0;
    while (done < size) {
        const ssize_t n = ::write(fd, data + done, size - done);
        if (n <= 0)
            fuzz::finding("cannot write " + path);
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string& path = kernelPath();
    writeFile(path, data, size);
    pvgrub::KernelFormat format;
    try {
        format = pvgrub::identifyKernel(path, true);
    } catch (const Error& e) {
        fuzz::finding(std::string("identifyKernel threw on a readable regular file: ") + e.what());
    }
    if (format.arch && format.description.empty())
        fuzz::finding("a kernel recognised without a description");
    if (!format.arch && format.problem.empty())
        fuzz::finding("a kernel not recognised, and no problem said");
    return 0;
}
