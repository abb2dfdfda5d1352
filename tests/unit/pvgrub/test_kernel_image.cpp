// The bitness of kernel images made by the tests: plain and gzip-compressed ELF32 and
// ELF64, bzImages, and the formats stubdomd says it does not recognise.
#include "KernelFiles.hpp"
#include "TempDir.hpp"
#include "pvgrub/KernelImage.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

using namespace stubdomd;
using namespace stubdomd::pvgrub;
using stubdomd::test::TempDir;

TEST_CASE("plain ELF kernels: ELF32 i386 and ELF64 x86-64", "[pvgrub][kernel]") {
    TempDir dir;
    KernelFormat k32 = identifyKernel(dir.write("vmlinux-32", test::elf32()));
    REQUIRE(k32.arch);
    CHECK(*k32.arch == Arch::X86_32);
    CHECK(k32.description == "ELF32 i386");
    KernelFormat k64 = identifyKernel(dir.write("vmlinux-64", test::elf64()));
    REQUIRE(k64.arch);
    CHECK(*k64.arch == Arch::X86_64);
    CHECK(k64.description == "ELF64 x86-64");
}

TEST_CASE("gzip-compressed ELF kernels", "[pvgrub][kernel]") {
    TempDir dir;
    KernelFormat k32 = identifyKernel(dir.write("vmlinuz-32.gz", test::gzip(test::elf32())));
    REQUIRE(k32.arch);
    CHECK(*k32.arch == Arch::X86_32);
    CHECK(k32.description == "gzip-compressed ELF32 i386");
    KernelFormat k64 =
        identifyKernel(dir.write("pv-grub.gz", test::gzip(test::elf(2, test::kEmX86_64, 4096))));
    REQUIRE(k64.arch);
    CHECK(*k64.arch == Arch::X86_64);
    CHECK(k64.description == "gzip-compressed ELF64 x86-64");
}

TEST_CASE("a bzImage: its gzip-compressed ELF payload", "[pvgrub][kernel]") {
    TempDir dir;
    // xloadflags deliberately wrong: the payload itself is what the builder boots.
    KernelFormat k64 =
        identifyKernel(dir.write("vmlinuz-64", test::bzImage(test::gzip(test::elf64()))));
    REQUIRE(k64.arch);
    CHECK(*k64.arch == Arch::X86_64);
    CHECK(k64.description == "bzImage (gzip-compressed ELF64 x86-64)");
    KernelFormat k32 =
        identifyKernel(dir.write("vmlinuz-32", test::bzImage(test::gzip(test::elf32()), 0x20a)));
    REQUIRE(k32.arch);
    CHECK(*k32.arch == Arch::X86_32);
}

TEST_CASE("a bzImage with another compression: its xloadflags from protocol 2.12",
          "[pvgrub][kernel]") {
    TempDir dir;
    const std::string xz = std::string("\xfd"
                                       "7zXZ\0",
                                       6) +
                           std::string(64, 'x');
    KernelFormat k64 = identifyKernel(dir.write("vmlinuz-xz64", test::bzImage(xz, 0x20f, 1)));
    REQUIRE(k64.arch);
    CHECK(*k64.arch == Arch::X86_64);
    CHECK(k64.description == "bzImage (xz-compressed payload, XLF_KERNEL_64 set)");
    KernelFormat k32 = identifyKernel(dir.write("vmlinuz-xz32", test::bzImage(xz, 0x20f, 0)));
    REQUIRE(k32.arch);
    CHECK(*k32.arch == Arch::X86_32);

    KernelFormat old = identifyKernel(dir.write("vmlinuz-old", test::bzImage(xz, 0x20a, 1)));
    CHECK_FALSE(old.arch);
    CHECK_THAT(old.problem, Catch::Contains("xz-compressed payload and a boot protocol older "
                                            "than 2.12"));
}

TEST_CASE("formats that are not recognised are said so", "[pvgrub][kernel]") {
    TempDir dir;
    KernelFormat text = identifyKernel(dir.write("notes.txt", "just text\n"));
    CHECK_FALSE(text.arch);
    CHECK_THAT(text.problem, Catch::Contains("not a kernel stubdomd recognises"));

    KernelFormat gzText = identifyKernel(dir.write("text.gz", test::gzip("placeholder\n")));
    CHECK_FALSE(gzText.arch);
    CHECK(gzText.problem == "gzip-compressed, but not an ELF kernel inside");

    KernelFormat xz = identifyKernel(dir.write("vmlinux.xz", std::string("\xfd"
                                                                         "7zXZ\0",
                                                                         6)));
    CHECK_FALSE(xz.arch);
    CHECK_THAT(xz.problem, Catch::StartsWith("xz-compressed, which stubdomd does not unpack"));

    KernelFormat arm = identifyKernel(dir.write("Image", test::elf(2, test::kEmAarch64)));
    CHECK_FALSE(arm.arch);
    CHECK(arm.problem == "ELF64 for machine 183, not an x86 PV kernel");

    KernelFormat cut = identifyKernel(dir.write("cut", test::elf64().substr(0, 10)));
    CHECK_FALSE(cut.arch);
    CHECK(cut.problem == "an ELF header cut short");
}

TEST_CASE("missing files, directories and FIFOs are refused", "[pvgrub][kernel]") {
    TempDir dir;
    CHECK_THROWS_WITH(identifyKernel(dir.path() + "/none"),
                      "cannot read " + dir.path() + "/none: No such file or directory");
    CHECK_THROWS_WITH(identifyKernel(dir.path()),
                      "cannot read " + dir.path() + ": not a regular file");
    const std::string fifo = dir.path() + "/fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THROWS_WITH(identifyKernel(fifo), "cannot read " + fifo + ": not a regular file");
    KernelFileAccess files;
    CHECK_FALSE(files.isFile(fifo));
    CHECK_FALSE(files.isFile(dir.path()));
    CHECK(files.isFile(dir.write("k", test::elf64())));
}

TEST_CASE("a caller other than root names only files everyone may read", "[pvgrub][kernel]") {
    TempDir dir;
    ::chmod(dir.path().c_str(), 0755);
    const std::string open = dir.write("open", test::elf64());
    ::chmod(open.c_str(), 0644);
    const std::string secret = dir.write("secret", test::elf64());
    ::chmod(secret.c_str(), 0600);
    CHECK(identifyKernel(open, false).arch == Arch::X86_64);
    CHECK(identifyKernel(secret, true).arch == Arch::X86_64);
    try {
        identifyKernel(secret, false);
        FAIL("read");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::AccessDenied);
        CHECK_THAT(e.what(), Catch::Contains("stubdomd reads as root"));
    }
    // World-readable, but in a directory only root may enter.
    ::chmod(dir.path().c_str(), 0700);
    CHECK_THROWS_AS(identifyKernel(open, false), Error);
    ::chmod(dir.path().c_str(), 0755);
}
