#include "pvgrub/KernelImage.hpp"

#include "pvgrub/CallerFile.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace stubdomd::pvgrub {

namespace {

constexpr std::size_t kElfHeadBytes = 20; // e_ident and e_type, then e_machine
constexpr std::uint16_t kEm386 = 3;
constexpr std::uint16_t kEmX86_64 = 62;
// A bzImage's payload begins at most a few hundred KiB in; deflate produces the ELF
// header from the first bytes of its stream, so this much is always enough.
constexpr std::size_t kPayloadReadBytes = 64 * 1024;

[[noreturn]] void cannotRead(const std::string& path, const std::string& why) {
    throw Error(ErrorCode::InvalidConfig, "cannot read " + path + ": " + why);
}

class GzFile {
public:
    explicit GzFile(gzFile file) : file_(file) {}
    ~GzFile() {
        if (file_)
            gzclose(file_);
    }
    GzFile(const GzFile&) = delete;
    GzFile& operator=(const GzFile&) = delete;
    gzFile get() const { return file_; }

private:
    gzFile file_;
};

// Up to `count` bytes from `offset`; fewer at the end of the file.
std::string readAt(int fd, off_t offset, std::size_t count, const std::string& path) {
    std::string data(count, '\0');
    std::size_t done = 0;
    while (done < count) {
        const ssize_t n = ::pread(fd, data.data() + done, count - done, offset + done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            cannotRead(path, std::strerror(errno));
        }
        if (n == 0)
            break;
        done += static_cast<std::size_t>(n);
    }
    data.resize(done);
    return data;
}

bool startsWith(const std::string& data, std::size_t at, const char* magic, std::size_t n) {
    return data.size() >= at + n && std::memcmp(data.data() + at, magic, n) == 0;
}

std::uint32_t le(const std::string& data, std::size_t at, std::size_t bytes) {
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < bytes; ++i)
        value |= static_cast<std::uint32_t>(static_cast<unsigned char>(data[at + i])) << (8 * i);
    return value;
}

bool isGzip(const std::string& data) {
    return startsWith(data, 0, "\x1f\x8b", 2);
}

bool isElf(const std::string& data) {
    return startsWith(data, 0,
                      "\x7f"
                      "ELF",
                      4);
}

// The compressions the domain builder knows besides gzip, to say which one it is.
const char* otherCompression(const std::string& data) {
    if (startsWith(data, 0,
                   "\xfd"
                   "7zXZ\0",
                   6))
        return "xz";
    if (startsWith(data, 0, "BZh", 3))
        return "bzip2";
    if (startsWith(data, 0, "\x5d\0\0", 3))
        return "lzma";
    if (startsWith(data, 0, "\x02\x21\x4c\x18", 4) || startsWith(data, 0, "\x04\x22\x4d\x18", 4))
        return "lz4";
    if (startsWith(data, 0, "\x28\xb5\x2f\xfd", 4))
        return "zstd";
    if (startsWith(data, 0, "\x89LZO", 4))
        return "lzo";
    return nullptr;
}

KernelFormat fromElf(const std::string& head, const std::string& wrapping) {
    KernelFormat format;
    if (head.size() < kElfHeadBytes) {
        format.problem = wrapping + "an ELF header cut short";
        return format;
    }
    const int elfClass = static_cast<unsigned char>(head[4]);
    const int data = static_cast<unsigned char>(head[5]);
    const std::string classText = elfClass == 1 ? "ELF32" : elfClass == 2 ? "ELF64" : "ELF";
    if (data != 1) {
        format.problem = wrapping + "a big-endian or malformed " + classText + " file, not x86";
        return format;
    }
    const std::uint16_t machine = static_cast<std::uint16_t>(le(head, 18, 2));
    if (elfClass == 1 && machine == kEm386) {
        format.arch = Arch::X86_32;
        format.description = wrapping + "ELF32 i386";
    } else if (elfClass == 2 && machine == kEmX86_64) {
        format.arch = Arch::X86_64;
        format.description = wrapping + "ELF64 x86-64";
    } else {
        format.problem = wrapping + classText + " for machine " + std::to_string(machine) +
                         ", not an x86 PV kernel";
    }
    return format;
}

KernelFormat unrecognised(const std::string& problem) {
    KernelFormat format;
    format.problem = problem;
    return format;
}

// The first bytes a gzip stream in memory inflates to.
std::string inflateHead(const std::string& compressed, std::size_t want) {
    z_stream stream{};
    if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) // 16: a gzip header, not zlib's
        return {};
    struct End {
        z_stream* s;
        ~End() { inflateEnd(s); }
    } end{&stream};
    std::string out(want, '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
    stream.avail_in = static_cast<uInt>(compressed.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(want);
    const int status = inflate(&stream, Z_SYNC_FLUSH);
    if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR)
        return {};
    out.resize(want - stream.avail_out);
    return out;
}

// A bzImage (Linux's x86 boot protocol, Documentation/arch/x86/boot.rst): the domain
// builder takes the compressed ELF at payload_offset (protocol 2.08 and later).
KernelFormat fromBzImage(int fd, const std::string& head, const std::string& path) {
    const std::uint32_t version = le(head, 0x206, 2);
    if (version < 0x208)
        return unrecognised("a bzImage of boot protocol " + std::to_string(version >> 8) + "." +
                            std::to_string(version & 0xff) +
                            ", older than 2.08, which has no payload to boot as a PV kernel");
    std::uint32_t setupSects = static_cast<unsigned char>(head[0x1f1]);
    if (setupSects == 0)
        setupSects = 4;
    const off_t payload = static_cast<off_t>((setupSects + 1) * 512) + le(head, 0x248, 4);
    const std::string data = readAt(fd, payload, kPayloadReadBytes, path);
    if (isGzip(data)) {
        KernelFormat inner = fromElf(inflateHead(data, kElfHeadBytes), "");
        if (inner.arch) {
            inner.description = "bzImage (gzip-compressed " + inner.description + ")";
            return inner;
        }
        return unrecognised("a bzImage whose gzip-compressed payload is not an x86 ELF kernel");
    }
    if (isElf(data)) {
        KernelFormat inner = fromElf(data, "");
        if (inner.arch)
            inner.description = "bzImage (uncompressed " + inner.description + ")";
        return inner;
    }
    const char* compression = otherCompression(data);
    const std::string what = compression ? std::string(compression) + "-compressed"
                                         : "unknown (not gzip, xz, bzip2, lzma, lz4, zstd, lzo)";
    // Without unpacking the payload, protocol 2.12's xloadflags still tell: Linux sets
    // XLF_KERNEL_64 in every x86_64 build and never in a 32-bit one.
    if (version >= 0x20c) {
        KernelFormat format;
        const bool kernel64 = (le(head, 0x236, 2) & 1) != 0;
        format.arch = kernel64 ? Arch::X86_64 : Arch::X86_32;
        format.description =
            "bzImage (" + what + " payload, XLF_KERNEL_64 " + (kernel64 ? "set" : "clear") + ")";
        return format;
    }
    return unrecognised("a bzImage with a " + what +
                        " payload and a boot protocol older than 2.12, which does not say its "
                        "bitness");
}

} // namespace

KernelFormat identifyKernel(const std::string& path, bool callerIsRoot) {
    CallerFile file(path, callerIsRoot);
    const std::string head = readAt(file.fd(), 0, 4096, path);
    if (isElf(head))
        return fromElf(head, "");
    if (isGzip(head)) {
        const int copy = ::fcntl(file.fd(), F_DUPFD_CLOEXEC, 0);
        if (copy < 0)
            cannotRead(path, std::strerror(errno));
        GzFile gz(gzdopen(copy, "rb")); // owns `copy` once open (gzclose closes it)
        if (!gz.get()) {
            ::close(copy);
            cannotRead(path, "out of memory");
        }
        char inner[kElfHeadBytes];
        const int n = gzread(gz.get(), inner, sizeof inner);
        if (n < 0)
            return unrecognised("gzip-compressed, but the data is corrupt");
        const std::string innerHead(inner, static_cast<std::size_t>(n));
        if (!isElf(innerHead))
            return unrecognised("gzip-compressed, but not an ELF kernel inside");
        return fromElf(innerHead, "gzip-compressed ");
    }
    if (startsWith(head, 0x202, "HdrS", 4) && head.size() >= 0x250)
        return fromBzImage(file.fd(), head, path);
    if (const char* compression = otherCompression(head))
        return unrecognised(std::string(compression) +
                            "-compressed, which stubdomd does not unpack (it reads plain and "
                            "gzip-compressed ELF kernels and bzImages)");
    return unrecognised("not a kernel stubdomd recognises (a plain or gzip-compressed ELF, or "
                        "a bzImage)");
}

bool KernelFileAccess::isFile(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

} // namespace stubdomd::pvgrub
