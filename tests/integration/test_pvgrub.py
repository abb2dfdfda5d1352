"""PV-GRUB on the real daemon and the simulated host (issue 8): Manager.PvGrubConfig and
Manager.PvGrubCheck through busctl (errors through gdbus, which prints their names), and a
running PV guest booted through PV-GRUB listed as pv-grub/unmanaged, never touched.

The firmware dirs are temp dirs holding the images the test makes (gzip'ed ELF, as Xen
builds them); kernels are small ELF files made here.
"""

import gzip
import json
import os
import struct
from pathlib import Path

import pytest

from simhost import SimHost, wait_for
from stubdomd import Stubdomd
from test_dbus_helpers import error_name_of, gdbus_call

MANAGER = "org.xen.Stubdom.Manager"
PATH = "/org/xen/Stubdom"


def elf(elf_class: int, machine: int) -> bytes:
    """An ELF executable header and a little filler: all stubdomd reads of a kernel."""
    head = b"\x7fELF" + bytes([elf_class, 1, 1]) + bytes(9) + struct.pack("<HH", 2, machine)
    return head + bytes(236)


ELF32 = elf(1, 3)
ELF64 = elf(2, 62)


def write(path: Path, data: bytes, mode: int = 0o644) -> str:
    path.write_bytes(data)
    path.chmod(mode)
    return str(path)


@pytest.fixture(scope="module")
def env():
    with SimHost() as host:
        boot = host.dir / "fw-xen-boot"
        grub = host.dir / "fw-grub-xen"
        boot.mkdir()
        grub.mkdir()
        images = {
            "pv32": write(boot / "pv-grub-x86_32.gz", gzip.compress(ELF32)),
            "pv64": write(boot / "pv-grub-x86_64.gz", gzip.compress(ELF64)),
            "readme": write(boot / "pv-grub.gz", gzip.compress(ELF64)),
        }
        kernels = host.dir / "kernels"
        kernels.mkdir()
        files = {
            "k32gz": write(kernels / "vmlinuz-32.gz", gzip.compress(ELF32)),
            "k64": write(kernels / "vmlinux-64", ELF64),
            "secret": write(kernels / "secret.cfg", b'kernel = "/x/pv-grub.gz"\n', 0o600),
        }
        d = Stubdomd(host, settings={"xen_boot_dir": str(boot), "grub_xen_dir": str(grub)})
        with d:
            yield host, d, boot, grub, images, files


def config(d, **options):
    args = [str(len(options))]
    for key, value in options.items():
        args += [key, "s", value]
    r = d.busctl("--json=short", "call", "org.xen.Stubdom", PATH, MANAGER, "PvGrubConfig",
                 "a{sv}", *args)
    assert r.returncode == 0, r.stderr
    return {k: v["data"] for k, v in json.loads(r.stdout)["data"][0].items()}


def check(d, path, user=None):
    r = d.busctl("--json=short", "call", "org.xen.Stubdom", PATH, MANAGER, "PvGrubCheck", "s",
                 str(path), user=user)
    assert r.returncode == 0, r.stderr
    return {k: v["data"] for k, v in json.loads(r.stdout)["data"][0].items()}


def failure(host, method, *args, user=None):
    r = gdbus_call(host, PATH, f"{MANAGER}.{method}", *args, user=user)
    assert r.returncode != 0, r.stdout
    return error_name_of(r), r.stderr


def test_config_prints_the_readme_lines_for_an_architecture(env):
    host, d, boot, grub, images, files = env
    got = config(d, arch="x86_64", menu="(hd0,0)/boot/grub/menu.lst")
    assert got["kernel_line"] == f'kernel = "{boot}/pv-grub-x86_64.gz"'
    assert got["extra_line"] == 'extra = "(hd0,0)/boot/grub/menu.lst"'
    assert got["image_installed"] is True
    assert got["menu_source"] == "disk"
    assert got["warnings"] == []
    installed = {path: inst for path, loader, arch, inst in got["images"]}
    assert installed[images["pv32"]] and not installed[f"{grub}/grub-x86_64-xen.bin"]

    tftp = config(d, arch="x86_32", menu="(nd)/somepath/menu.lst")
    assert tftp["kernel"] == images["pv32"] and tftp["menu_source"] == "network"
    dhcp = config(d, arch="x86_32")
    assert dhcp["extra_line"] == 'extra = ""' and dhcp["menu_source"] == "dhcp"


def test_config_reads_the_bitness_of_the_guest_kernel(env):
    host, d, boot, grub, images, files = env
    got = config(d, guest_kernel=files["k32gz"])
    assert got["arch"] == "x86_32"
    assert got["kernel"] == images["pv32"]
    assert got["arch_source"] == f"the kernel {files['k32gz']} (gzip-compressed ELF32 i386)"


def test_config_missing_grub2_image_is_reported(env):
    host, d, boot, grub, images, files = env
    got = config(d, arch="x86_64", loader="grub2")
    assert got["kernel"] == f"{grub}/grub-x86_64-xen.bin"
    assert got["image_installed"] is False
    assert got["warnings"][0].startswith(f"{grub}/grub-x86_64-xen.bin is not installed")
    assert "grub-xen-host" in got["warnings"][0]


def test_config_errors_have_their_names(env):
    host, d, boot, grub, images, files = env
    name, text = failure(host, "PvGrubConfig",
                         f"{{'guest_kernel': <'{files['k64']}'>, 'image': <'{images['pv32']}'>}}")
    assert name == "org.xen.Stubdom.Error.InvalidConfig"
    assert "bitness mismatch: the guest's kernel is 64-bit" in text
    assert "32-bit PV-GRUB cannot boot a 64-bit kernel" in text

    name, text = failure(host, "PvGrubConfig",
                         f"{{'arch': <'x86_32'>, 'image': <'{images['readme']}'>}}")
    assert name == "org.xen.Stubdom.Error.InvalidConfig"
    assert "from its ELF class (gzip-compressed ELF64 x86-64)" in text

    name, text = failure(host, "PvGrubConfig", "{'arch': <'x86_64'>, 'menu': <'(hd0,0'>}")
    assert name == "org.xen.Stubdom.Error.InvalidConfig"
    assert 'column 7 (the end)' in text

    name, text = failure(host, "PvGrubConfig", "{'arch': <'arm64'>}")
    assert name == "org.freedesktop.DBus.Error.InvalidArgs"
    assert "x86_32 or x86_64" in text
    name, text = failure(host, "PvGrubConfig", "{'colour': <'blue'>}")
    assert name == "org.freedesktop.DBus.Error.InvalidArgs"
    name, text = failure(host, "PvGrubConfig", "{'guest_kernel': <'vmlinuz'>}")
    assert name == "org.freedesktop.DBus.Error.InvalidArgs"
    assert "absolute path" in text
    name, text = failure(host, "PvGrubConfig", "@a{sv} {}")
    assert name == "org.freedesktop.DBus.Error.InvalidArgs"


def test_check_accepts_the_readme_configs_as_written(env):
    host, d, boot, grub, images, files = env
    for extra in ["(hd0,0)/boot/grub/menu.lst", "(nd)/somepath/menu.lst", ""]:
        cfg = host.dir / "readme-pv.cfg"
        cfg.write_text(f'kernel = "{images["readme"]}"\nextra = "{extra}"\n')
        got = check(d, cfg)
        assert got["ok"] is True, got["problems"]
        assert got["pv_grub"] is True
        assert got["image_arch"] == "x86_64"
        assert got["extra"] == extra


def test_check_reports_each_problem(env):
    host, d, boot, grub, images, files = env
    cfg = host.dir / "bad-pv.cfg"
    cfg.write_text('name = "bad"\nkernel = "/nonexistent/pv-grub-x86_32.gz"\n'
                   'extra = "(hd0,0)boot/grub/menu.lst"\n')
    got = check(d, cfg)
    assert got["ok"] is False
    codes = [code for code, message in got["problems"]]
    assert codes == ["image-missing", "bad-extra"]
    assert f"{cfg}:3: extra \"(hd0,0)boot/grub/menu.lst\": column 8" in got["problems"][1][1]

    cfg.write_text(f'kernel = "{files["k64"]}"\n')
    got = check(d, cfg)
    assert got["problems"][0][0] == "not-pv-grub"
    assert f'use kernel = "{images["pv64"]}"' in got["problems"][0][1]


def test_check_refuses_what_it_must_not_read(env):
    host, d, boot, grub, images, files = env
    name, text = failure(host, "PvGrubCheck", f"'{host.dir}'")
    assert name == "org.xen.Stubdom.Error.InvalidConfig" and "not a regular file" in text
    name, text = failure(host, "PvGrubCheck", "'relative.cfg'")
    assert name == "org.freedesktop.DBus.Error.InvalidArgs"
    big = host.dir / "big.cfg"
    big.write_bytes(b"#" * (1024 * 1024 + 1))
    name, text = failure(host, "PvGrubCheck", f"'{big}'")
    assert name == "org.xen.Stubdom.Error.InvalidConfig" and "larger than" in text
    name, text = failure(host, "PvGrubCheck", f"'{host.dir}/syntax.cfg'")
    assert "No such file" in text
    # Root may read anything; another user only what everyone may read.
    assert check(d, files["secret"])["pv_grub"] is True
    name, text = failure(host, "PvGrubCheck", f"'{files['secret']}'", user="nobody")
    assert name == "org.freedesktop.DBus.Error.AccessDenied"
    cfg = host.dir / "open.cfg"
    cfg.write_text(f'kernel = "{images["pv64"]}"\n')
    cfg.chmod(0o644)
    assert check(d, cfg, user="nobody")["ok"] is True


def test_a_running_pv_grub_guest_is_listed_unmanaged(env):
    host, d, boot, grub, images, files = env
    pvg = host.dir / "pvg.cfg"
    pvg.write_text('name = "pvg"\ntype = "pv"\nmemory = 64\n'
                   'kernel = "/usr/lib/xen/boot/pv-grub-x86_64.gz"\n'
                   'extra = "(hd0,0)/boot/grub/menu.lst"\n')
    direct = host.dir / "direct.cfg"
    direct.write_text(f'name = "direct"\ntype = "pv"\nmemory = 64\nkernel = "{files["k64"]}"\n')
    host.xl("create", str(pvg))
    host.xl("create", str(direct))
    guest = wait_for(lambda: d.guests().get("pvg"), what="pvg to be listed")
    assert guest["state"] == "unmanaged"
    assert guest["stub_domid"] == 0
    assert d.prop(guest["path"], "Flavour") == "pv-grub"
    assert "PV-GRUB" in d.prop(guest["path"], "StateReason")
    assert "direct" not in d.guests()
    name, text = failure(host, "Attach", str(guest["domid"]), "@a{sv} {}")
    assert name == "org.xen.Stubdom.Error.NotHvm"
    assert host.xs_read(f"/local/domain/0/device-model/{guest['domid']}") is None
    host.xl("destroy", "pvg")
    wait_for(lambda: "pvg" not in d.guests(), what="pvg to go")


def stubdomctl(host, *args):
    return host.run(str(Path(os.environ.get("BUILD_ROOT", "build")) / "cli" / "stubdomctl"),
                    *args)


def test_stubdomctl_pvgrub_config_and_check(env):
    host, d, boot, grub, images, files = env
    r = stubdomctl(host, "pvgrub", "config", "--arch", "x86_64", "--menu",
                   "(hd0,0)/boot/grub/menu.lst")
    assert r.returncode == 0, r.stderr
    assert r.stdout == (f'kernel = "{boot}/pv-grub-x86_64.gz"\n'
                        'extra = "(hd0,0)/boot/grub/menu.lst"\n')
    r = stubdomctl(host, "--json", "pvgrub", "config", "--guest-kernel", files["k32gz"])
    assert json.loads(r.stdout)["kernel"] == images["pv32"]
    r = stubdomctl(host, "pvgrub", "config", "--arch", "x86_64", "--menu", "hd0/menu.lst")
    assert r.returncode == 1
    assert "column 1" in r.stderr and "(InvalidConfig)" in r.stderr
    assert stubdomctl(host, "pvgrub", "config").returncode == 2

    cfg = host.dir / "cli-pv.cfg"
    cfg.write_text(f'kernel = "{images["pv64"]}"\nextra = "(nd)/somepath/menu.lst"\n')
    r = stubdomctl(host, "pvgrub", "check", str(cfg))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "menu: TFTP (PV-GRUB does DHCP), /somepath/menu.lst" in r.stdout
    r = stubdomctl(host, "--json", "pvgrub", "check", str(cfg), "--guest-kernel", files["k32gz"])
    assert r.returncode == 1
    report = json.loads(r.stdout)
    assert [p["code"] for p in report["problems"]] == ["arch-mismatch"]
    assert "the guest's kernel is 32-bit" in report["problems"][0]["message"]
