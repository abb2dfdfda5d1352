// Small kernel images made by the tests: ELF headers of each class and machine, their
// gzip-compressed forms, and bzImages around a payload. Only the headers matter to
// stubdomd, so a few hundred bytes stand for a kernel.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace stubdomd::test {

constexpr std::uint16_t kEm386 = 3;
constexpr std::uint16_t kEmX86_64 = 62;
constexpr std::uint16_t kEmAarch64 = 183;

inline void putLe(std::string& data, std::size_t at, std::uint32_t value, std::size_t bytes) {
    for (std::size_t i = 0; i < bytes; ++i)
        data[at + i] = static_cast<char>((value >> (8 * i)) & 0xff);
}

// An ELF executable header (class 1 = ELF32, 2 = ELF64) followed by filler.
inline std::string elf(int elfClass, std::uint16_t machine, std::size_t size = 256) {
    std::string data(size, '\0');
    data.replace(0, 4,
                 "\x7f"
                 "ELF");
    data[4] = static_cast<char>(elfClass);
    data[5] = 1;           // little-endian
    data[6] = 1;           // EV_CURRENT
    putLe(data, 16, 2, 2); // ET_EXEC
    putLe(data, 18, machine, 2);
    for (std::size_t i = 64; i < size; ++i)
        data[i] = static_cast<char>(i * 7);
    return data;
}

inline std::string elf32() {
    return elf(1, kEm386);
}
inline std::string elf64() {
    return elf(2, kEmX86_64);
}

inline std::string gzip(const std::string& data) {
    z_stream stream{};
    if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2");
    std::string out(compressBound(static_cast<uLong>(data.size())) + 64, '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    const int status = deflate(&stream, Z_FINISH);
    deflateEnd(&stream);
    if (status != Z_STREAM_END)
        throw std::runtime_error("deflate");
    out.resize(out.size() - stream.avail_out);
    return out;
}

// A bzImage of boot protocol `version` (0x20f: Linux 4.x and later): one setup sector,
// `payload` at payload_offset 0x100 into the protected-mode part, xloadflags as given.
inline std::string bzImage(const std::string& payload, std::uint16_t version = 0x20f,
                           std::uint16_t xloadflags = 0) {
    const std::uint32_t payloadOffset = 0x100;
    std::string data(1024 + payloadOffset, '\0');
    data[0] = 'M';
    data[1] = 'Z';
    data[0x1f1] = 1; // setup_sects: the protected-mode part starts at (1 + 1) * 512
    data.replace(0x202, 4, "HdrS");
    putLe(data, 0x206, version, 2);
    putLe(data, 0x236, xloadflags, 2);
    putLe(data, 0x248, payloadOffset, 4);
    putLe(data, 0x24c, static_cast<std::uint32_t>(payload.size()), 4);
    return data + payload;
}

} // namespace stubdomd::test
