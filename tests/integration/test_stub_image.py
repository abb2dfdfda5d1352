"""The Linux stub-domain image builder (issue 16): stubdom-mkimage makes the kernel and the
rootfs from the installed Debian packages alone, names a missing input with the package to
install, and leaves nothing half-written when it fails."""

import os
import subprocess
from pathlib import Path

import pytest

from simhost import SOURCE_ROOT

MKIMAGE = SOURCE_ROOT / "stubimage" / "stubdom-mkimage"
INIT = SOURCE_ROOT / "stubimage" / "init"
QEMU = "/usr/libexec/xen-qemu-system-i386"
NEEDED = {QEMU: "qemu-system-xen", "/usr/share/seabios/vgabios-cirrus.bin": "seabios",
          "/usr/share/seabios/vgabios-stdvga.bin": "seabios",
          "/usr/share/seabios/vgabios-qxl.bin": "seabios",
          "/bin/busybox": "busybox-static", "/usr/lib/xen-4.17/bin/vchan-socket-proxy":
          "xen-utils-4.17", "/usr/bin/cpio": "cpio", "/usr/bin/lz4": "lz4"}


def vmlinuz():
    found = sorted(Path("/boot").glob("vmlinuz-*"))
    return found[-1] if found else None


def skip_without_packages():
    missing = [p for f, p in NEEDED.items() if not os.path.exists(f)]
    if vmlinuz() is None:
        missing.append("linux-image-amd64")
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (scripts/install-deps --stubimage)")


def mkimage(out, *args, env=None):
    return subprocess.run([str(MKIMAGE), "--kernel-out", str(out / "kernel"), "--rootfs-out",
                           str(out / "rootfs"), "--init", str(INIT), *args],
                          capture_output=True, text=True, env={**os.environ, **(env or {})})


def unpacked(rootfs):
    """The cpio inside the rootfs: lz4 (legacy format, what the kernel takes) or gzip."""
    tool = "lz4" if rootfs.read_bytes()[:4] == b"\x02\x21\x4c\x18" else "gzip"
    return subprocess.run([tool, "-dc", str(rootfs)], capture_output=True, check=True).stdout


def cpio_listing(rootfs):
    unpacked_cpio = unpacked(rootfs)
    return subprocess.run(["cpio", "-it", "--quiet"], input=unpacked_cpio, capture_output=True,
                          check=True).stdout.decode().split("\n")


def cpio_file(rootfs, name):
    return subprocess.run(["cpio", "-i", "--quiet", "--to-stdout", name], input=unpacked(rootfs),
                          capture_output=True, check=True).stdout.decode()


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    skip_without_packages()
    out = tmp_path_factory.mktemp("image")
    r = mkimage(out)
    assert r.returncode == 0, r.stdout + r.stderr
    print(r.stdout)
    return out, r


def test_the_image_holds_qemu_its_libraries_the_roms_the_modules_and_the_init(image):
    out, _ = image
    names = {"/" + n.lstrip("./") for n in cpio_listing(out / "rootfs") if n}
    libs = subprocess.run(["ldd", QEMU], capture_output=True, text=True, check=True).stdout
    wanted = {QEMU, "/init", "/usr/bin/busybox", "/usr/bin/xenstore", "/usr/bin/xenstore-read",
              "/usr/bin/xenstore-list", "/usr/lib/xen-4.17/bin/vchan-socket-proxy",
              "/usr/share/seabios/vgabios-cirrus.bin", "/usr/bin/sh", "/usr/sbin/insmod"}
    for line in libs.splitlines():
        parts = line.split()
        path = parts[2] if "=>" in parts and len(parts) > 2 else parts[0]
        if path.startswith("/"):
            wanted.add(path if path.startswith("/usr/") else "/usr" + path)
    assert sorted(wanted - names) == []
    # Only the ROMs QEMU 7.2 loads: the VGA BIOS of libxl's VGA kinds, iPXE's efi-*.rom
    # (xenfv's compatibility picks them), none of the pxe-*.rom or other cards' BIOSes.
    roms = {n for n in names if n.endswith((".rom", ".bin")) and "/usr/share/qemu/" not in n}
    vga = {f"/usr/share/seabios/vgabios-{v}.bin" for v in ("cirrus", "stdvga", "qxl")}
    efi = {str(p) for p in Path("/usr/lib/ipxe/qemu").glob("efi-*.rom")}
    assert roms == vga | efi, sorted(roms ^ (vga | efi))
    assert cpio_file(out / "rootfs", "init") == INIT.read_text()
    modules = cpio_file(out / "rootfs", "etc/stubdom/modules").split("\n")
    for m in ("xen-evtchn.ko", "xen-gntdev.ko", "xen-gntalloc.ko", "xen-privcmd.ko unrestricted=1",
              "xenfs.ko", "xen-blkfront.ko"):
        assert m in modules
        assert f"/usr/lib/modules/stubdom/{m.split()[0]}" in names


def test_the_kernel_is_debian_s_and_the_sizes_and_packages_are_printed(image):
    out, r = image
    assert (out / "kernel").read_bytes() == vmlinuz().read_bytes()
    assert f"rootfs {out / 'rootfs'} (" in r.stdout and "MiB unpacked" in r.stdout
    # lz4, which the kernel unpacks fastest, whenever the kernel was built to unpack it
    config = Path("/boot") / vmlinuz().name.replace("vmlinuz-", "config-")
    if config.exists() and "CONFIG_RD_LZ4=y\n" in config.read_text():
        assert (out / "rootfs").read_bytes()[:4] == b"\x02\x21\x4c\x18"
        assert "lz4'd cpio" in r.stdout
    packages = next(line for line in r.stdout.splitlines() if line.startswith("stubdom-mkimage: packages:"))
    for p in ("qemu-system-xen=", "seabios=", "busybox-static=", "xen-utils-4.17=", "linux-image-"):
        assert p in packages, packages
    # the figures the note quotes: MiB of the two files
    kernel_mib = (out / "kernel").stat().st_size / 2**20
    rootfs_mib = (out / "rootfs").stat().st_size / 2**20
    print(f"stub_kernel_mib={kernel_mib:.1f} stub_rootfs_mib={rootfs_mib:.1f}")
    assert 0 < rootfs_mib < 64


def test_unpack_kernel_writes_the_elf_image(tmp_path):
    skip_without_packages()
    r = mkimage(tmp_path, "--unpack-kernel")
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "kernel").read_bytes()[:4] == b"\x7fELF"
    assert "(ELF, " in r.stdout


def test_a_missing_input_is_named_with_its_package_and_nothing_is_written(tmp_path):
    r = mkimage(tmp_path, "--vmlinuz", str(tmp_path / "no-vmlinuz"),
                env={"STUBDOM_MKIMAGE_QEMU": str(tmp_path / "no-qemu")})
    assert r.returncode == 1
    assert f"missing: {tmp_path / 'no-qemu'} (install qemu-system-xen)" in r.stderr
    assert f"missing: {tmp_path / 'no-vmlinuz'} (install linux-image-amd64)" in r.stderr
    assert "nothing written" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_build_that_fails_late_leaves_no_file_behind(tmp_path):
    # A "kernel" that holds no compressed ELF: the rootfs is already made when the
    # unpacking fails, and neither file may stay, not even under a temporary name.
    skip_without_packages()
    # (named after the installed kernel: its modules are looked up by that version)
    bogus = tmp_path / vmlinuz().name
    bogus.write_bytes(b"not a kernel\n" * 100)
    out = tmp_path / "out"
    out.mkdir()
    r = mkimage(out, "--vmlinuz", str(bogus), "--unpack-kernel")
    assert r.returncode == 1
    assert "cannot unpack the kernel" in r.stderr and "nothing written" in r.stderr
    assert sorted(p.name for p in out.iterdir()) == []


def test_a_bad_argument_is_a_usage_error():
    r = subprocess.run([str(MKIMAGE), "--frobnicate"], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown argument '--frobnicate'" in r.stderr
