"""The Linux stub-domain flavour (issue 10, spawn side) on the simulated host: a guest whose
stub config names Xen's qemu-stubdom-linux images (or says flavour = "linux") gets a Linux
stub domain with its qemu arguments in /vm/<uuid>/image/dm-argv, which the sim's stub reads
as the real stub's init does before its qemu reports running; an ioemu guest beside it is
unchanged; bad input fails the guest with a clear reason and no hang."""

import json
import os
import subprocess

import pytest

from simhost import communicate, sim_host, wait_for  # noqa: F401  (fixture)
from stubdomd import BUILD_ROOT, EXAMPLES, Stubdomd

HVM = str(EXAMPLES / "hvmconfig")
STUBDOMCTL = BUILD_ROOT / "cli" / "stubdomctl"
BOOT = "/usr/lib/xen/boot"


def linux_stub(host):
    """libxl's keys for the images, naming Xen's Linux stub domain (the sim's placeholders:
    this machine has no /usr/lib/xen/boot/qemu-stubdom-linux-*, and stubdomd checks)."""
    return (f'stubdomain_kernel = "{host.dir}/boot/qemu-stubdom-linux-kernel"\n'
            f'stubdomain_ramdisk = "{host.dir}/boot/qemu-stubdom-linux-rootfs"\n'
            "disk = [ 'phy:/dev/vg/lx,hda,w', 'file:/tmp/install.iso,hdc:cdrom,r' ]\n")


def linux_settings(host, **extra):
    """The sim's placeholders stand for Xen's images (xensim up makes them)."""
    return {"linux_stub_kernel": str(host.dir / "boot" / "qemu-stubdom-linux-kernel"),
            "linux_stub_rootfs": str(host.dir / "boot" / "qemu-stubdom-linux-rootfs"),
            **extra}


def dm_argv(host, uuid):
    base = f"/vm/{uuid}/image/dm-argv"
    keys = host.xs_ls(base)
    return keys, [host.xs_read(f"{base}/{k}") for k in keys]


def read(path):
    return path.read_text() if path.exists() else ""


def open_files(pid):
    fds = f"/proc/{pid}/fd"
    targets = []
    for fd in os.listdir(fds):
        try:
            targets.append(os.readlink(f"{fds}/{fd}"))
        except OSError:
            pass
    return targets


def ctl(host, *args):
    return host.run(STUBDOMCTL, *args, timeout=60)


def test_linux_guest_runs_with_dm_argv_beside_an_unchanged_ioemu_guest(sim_host):
    with Stubdomd(sim_host) as d:  # no linux_stub_* settings: the stub config's images
        d.write_config_dir_file("stubdom-lx", linux_stub(sim_host))
        sim_host.xl("create", HVM)
        sim_host.xl("create", HVM, 'name="lx"', "videoram=16")
        d.wait_state("lx", "running")
        d.wait_state("hvmconfig", "running")
        g, s = sim_host.domid("lx"), sim_host.domid("lx-dm")
        guests = d.guests()
        uuid = guests["lx"]["uuid"]

        # The stub's xl config: Xen's images as the stub config names them, stubdomd's 256 MiB
        # plus the guest's 16 MiB of video memory (libxl's rule: base + video_memkb), no -d
        # (the stub finds its guest by `target`), the kernel line linux_stub_cmdline's "quiet".
        cfg = (sim_host.dir / "stubdomd-run" / "lx-dm.cfg").read_text()
        assert f'kernel = "{sim_host.dir}/boot/qemu-stubdom-linux-kernel"\n' in cfg
        assert f'ramdisk = "{sim_host.dir}/boot/qemu-stubdom-linux-rootfs"\n' in cfg
        assert "\nmemory = 272\n" in cfg
        assert '\nextra = "quiet"\n' in cfg and "-d " not in cfg

        # One argument per key, 001 first as libxl numbers them, in order, for the stub only.
        keys, args = dm_argv(sim_host, uuid)
        assert keys == [f"{i:03d}" for i in range(1, len(keys) + 1)]
        assert args == [
            "-xen-domid", str(g), "-no-shutdown", "-nodefaults", "-no-user-config",
            "-name", "lx", "-display", "none", "-device", "cirrus-vga,vgamem_mb=16",
            "-boot", "order=cda", "-net", "none", "-machine", "xenfv,suppress-vmdesc=on",
            "-m", "256",
            "-drive", "file=/dev/xvda,if=ide,index=0,media=disk,format=host_device,"
                      "cache=writeback",
            "-drive", "if=none,readonly=on,id=ide-5632,file=/dev/xvdc,format=host_device",
            "-device", "ide-cd,id=ide-5632,drive=ide-5632,bus=ide.1,unit=0"]
        assert sim_host.xs_perms(f"/vm/{uuid}/image/dm-argv") == ["n0", f"r{s}"]
        for key in keys:
            assert sim_host.xs_perms(f"/vm/{uuid}/image/dm-argv/{key}") == ["n0", f"r{s}"]
        assert sim_host.xs_read(f"/vm/{uuid}/image/dmargs") is None

        # The stub's qemu read them (sorted, as its init does), published its QMP vchan and
        # reported running at its own device-model path.
        boot_log = (sim_host.dir / "log" / f"dom-{s}.log").read_text()
        assert f"dm-argv: [-xen-domid] [{g}] [-no-shutdown]" in boot_log
        dm = f"/local/domain/{s}/device-model/{g}"
        assert sim_host.xs_read(f"{dm}/state") == "running"
        assert sim_host.xs_perms(f"{dm}/state")[0] == f"n{s}"
        for key in ("ring-ref", "event-channel"):
            assert sim_host.xs_read(f"{dm}/qmp-vchan/{key}") is not None
            assert sim_host.xs_perms(f"{dm}/qmp-vchan/{key}") == [f"n{s}", "r0"]
        # The toolstack's wait on the legacy path is answered for linux too.
        assert sim_host.xs_read(f"/local/domain/0/device-model/{g}/state") == "running"

        # Flavour on D-Bus and in stubdomctl; the daemon says it serves the flavour.
        features = d.busctl("--json=short", "get-property", "org.xen.Stubdom",
                            "/org/xen/Stubdom", "org.xen.Stubdom.Manager", "Features")
        assert "linux" in json.loads(features.stdout)["data"]
        assert d.prop(guests["lx"]["path"], "Flavour") == "linux"
        assert d.prop(guests["hvmconfig"]["path"], "Flavour") == "ioemu"
        status = json.loads(ctl(sim_host, "status", "lx", "--json").stdout)
        assert (status["flavour"], status["state"], status["stub_domid"]) == ("linux", "running", s)
        human = ctl(sim_host, "status", "lx").stdout
        assert "Flavour:      linux" in human, human

        # The ioemu guest beside it is exactly the README's.
        hg, hs = sim_host.domid("hvmconfig"), sim_host.domid("hvmconfig-dm")
        huuid = guests["hvmconfig"]["uuid"]
        assert sim_host.xs_read(f"/vm/{huuid}/image/dmargs") == f" -d {hg} -domain-name hvmconfig"
        assert sim_host.xs_ls(f"/vm/{huuid}/image/dm-argv") == []
        hcfg = (sim_host.dir / "stubdomd-run" / "hvmconfig-dm.cfg").read_text()
        assert f'kernel = "{BOOT}/ioemu-stubdom.gz"\nmemory = 32\n' in hcfg
        assert f'extra = "-d {hg}"' in hcfg

        # Console 0 of each stub is its device model's log, as libxl makes it: stubdomd copies
        # the pty xenconsoled published (dom0-owned, the stub may only read it).
        tty = sim_host.xs_read(f"/local/domain/{s}/console/tty")
        assert tty.startswith("/dev/pts/")
        assert sim_host.xs_perms(f"/local/domain/{s}/console/tty") == ["n0", f"r{s}"]
        logs = sim_host.dir / "xenlog"
        wait_for(lambda: "+ qemu (xensim stand-in) [-xen-domid]" in read(logs / "qemu-dm-lx.log"),
                 what="the Linux stub's console in its log")
        lx_log = read(logs / "qemu-dm-lx.log")
        assert lx_log.startswith("Linux stub domain lx-dm (xensim stand-in) booting")
        assert f"[-xen-domid] [{g}] [-no-shutdown]" in lx_log
        wait_for(lambda: "dmargs: -d" in read(logs / "qemu-dm-hvmconfig.log"),
                 what="the ioemu stub's console in its log")
        assert (logs / "qemu-dm-lx.log").stat().st_mode & 0o777 == 0o644
        assert f"logging the stub domain's console {tty} to {logs}/qemu-dm-lx.log" in d.log()
        assert tty in open_files(d.proc.pid)

        # Teardown cleans dm-argv as it cleans dmargs, and lets go of the stub's pty.
        sim_host.xl("destroy", "lx")
        wait_for(lambda: sim_host.domid("lx-dm") is None,
                 what="the Linux stub domain to go with its guest")
        wait_for(lambda: "lx" not in d.guests(), what="the guest to be dropped")
        assert sim_host.xs_read(f"/vm/{uuid}/image/dm-argv") is None
        assert sim_host.xs_read(f"/local/domain/0/device-model/{g}") is None
        wait_for(lambda: tty not in open_files(d.proc.pid),
                 what="stubdomd to close the gone stub's console")
        assert d.guests()["hvmconfig"]["state"] == "running"
        assert sim_host.domid("hvmconfig-dm") == hs


def test_a_guest_is_taken_only_once_the_toolstack_has_introduced_it(sim_host, tmp_path):
    """libxl writes a new domain's nodes in two transactions and introduces the domain only
    after the second, which holds memory/videoram: the Linux stub's size. Another domain's
    event in between makes stubdomd look at the host; the half-written guest must wait (a
    CI run once gave its stub 264 MiB, 256 plus the 8 MiB fallback, instead of 272)."""
    hold = tmp_path / "hold"
    os.mkfifo(hold)
    with Stubdomd(sim_host) as d:
        d.write_config_dir_file("stubdom-lx", linux_stub(sim_host))
        sim_host.set_fault("xl-create-hold", str(hold), domain="lx")
        creating = sim_host.spawn("xl", "create", HVM, 'name="lx"', "videoram=16",
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lx = wait_for(lambda: sim_host.domid("lx"), what="lx listed by the hypervisor",
                      progress=creating.poll)
        assert sim_host.xs_read(f"/local/domain/{lx}/name") == "lx"
        assert sim_host.xs_read(f"/local/domain/{lx}/memory/videoram") is None

        # A guest created meanwhile: its stub domain's introduction wakes stubdomd, which
        # lists the hypervisor's domains, lx among them.
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "running")
        assert "lx" not in d.guests()

        with open(hold, "w"):
            pass  # the test's end of the FIFO closes: xl goes on
        out, err = communicate(creating, "xl create lx to finish")
        assert creating.returncode == 0, err
        d.wait_state("lx", "running")
        cfg = (sim_host.dir / "stubdomd-run" / "lx-dm.cfg").read_text()
        assert "\nmemory = 272\n" in cfg


def test_flavour_key_and_default_flavour_choose_the_stub(sim_host):
    settings = linux_settings(sim_host, default_flavour="linux")
    with Stubdomd(sim_host, settings=settings) as d:
        d.write_config_dir_file("stubdom-plain", "disk = [ 'phy:/dev/vg/p,hda,w' ]\n")
        d.write_config_dir_file("stubdom-old", 'flavour = "ioemu"\n')
        sim_host.xl("create", HVM, 'name="plain"')
        sim_host.xl("create", HVM, 'name="old"')
        d.wait_state("plain", "running")
        d.wait_state("old", "running")
        guests = d.guests()
        assert d.prop(guests["plain"]["path"], "Flavour") == "linux"
        assert d.prop(guests["old"]["path"], "Flavour") == "ioemu"
        cfg = (sim_host.dir / "stubdomd-run" / "plain-dm.cfg").read_text()
        assert f'kernel = "{sim_host.dir}/boot/qemu-stubdom-linux-kernel"' in cfg
        assert dm_argv(sim_host, guests["plain"]["uuid"])[1][:2] == [
            "-xen-domid", str(sim_host.domid("plain"))]
        assert sim_host.xs_read(f"/vm/{guests['old']['uuid']}/image/dmargs") is not None


def start_error(d, path):
    r = d.busctl("call", "org.xen.Stubdom", path, "org.xen.Stubdom.Guest", "Start", "a{sv}", "0")
    assert r.returncode != 0
    return r.stderr


@pytest.mark.parametrize("what", ["kernel", "rootfs"])
def test_a_missing_linux_image_fails_the_guest_without_a_spawn(sim_host, what):
    settings = linux_settings(sim_host)
    missing = str(sim_host.dir / f"no-such-{what}")
    settings[f"linux_stub_{what}"] = missing
    # A start timeout no wait outlasts: the guest fails at once, not by waiting out a
    # start that never comes (the wait for `failed` would stall first).
    settings["start_timeout_ms"] = 3_600_000
    with Stubdomd(sim_host, settings=settings) as d:
        d.write_config_dir_file("stubdom-lx", 'flavour = "linux"\n')
        sim_host.xl("create", HVM, 'name="lx"')
        guest = d.wait_state("lx", "failed")
        reason = d.prop(guest["path"], "StateReason")
        assert f"the Linux stub domain's {what} {missing} cannot be read" in reason
        assert f"linux_stub_{what}" in reason
        assert sim_host.domid("lx-dm") is None
        assert "creating lx-dm" not in d.log()

        error = start_error(d, guest["path"])
        assert missing in error, error
        assert sim_host.domid("lx-dm") is None


@pytest.mark.parametrize("text, line, message", [
    ('memory = 200\nflavour = "qemu"\n', 2, "'flavour' must be 'ioemu' or 'linux', got \"qemu\""),
    (f'flavour = "ioemu"\nkernel = "{BOOT}/qemu-stubdom-linux-kernel"\n', 1,
     f"'flavour' is \"ioemu\", but 'kernel' \"{BOOT}/qemu-stubdom-linux-kernel\" is the linux "
     "stub domain's"),
    (f'kernel = "{BOOT}/ioemu-stubdom.gz"\nramdisk = "{BOOT}/qemu-stubdom-linux-rootfs"\n', 2,
     f"'ramdisk' \"{BOOT}/qemu-stubdom-linux-rootfs\" is the linux stub domain's, but 'kernel' "
     f"\"{BOOT}/ioemu-stubdom.gz\" is the ioemu stub domain's"),
])
def test_a_bad_flavour_is_refused_with_file_and_line(sim_host, text, line, message):
    with Stubdomd(sim_host, settings=linux_settings(sim_host)) as d:
        d.write_config_dir_file("stubdom-lx", text)
        sim_host.xl("create", HVM, 'name="lx"')
        guest = d.wait_state("lx", "failed")
        expected = f"{d.config_dir}/stubdom-lx:{line}: {message}"
        assert d.prop(guest["path"], "StateReason") == expected
        assert expected in start_error(d, guest["path"])
        assert sim_host.domid("lx-dm") is None


def test_sim_faults_apply_to_linux_stubs(sim_host):
    with Stubdomd(sim_host, settings=linux_settings(sim_host, start_timeout_ms=1500)) as d:
        d.write_config_dir_file("stubdom-lx", 'flavour = "linux"\n')
        sim_host.set_fault("stubdom-never-running", domain="lx-dm")
        sim_host.xl("create", HVM, 'name="lx"')
        guest = d.wait_state("lx", "failed")
        assert "lx-dm did not reach running within 1.5 s" in d.prop(guest["path"], "StateReason")
        wait_for(lambda: sim_host.domid("lx-dm") is None,
                 what="the stub that never ran to be destroyed")
        assert sim_host.xs_read(f"/vm/{guest['uuid']}/image/dm-argv") is None

        sim_host.clear_fault("stubdom-never-running", domain="lx-dm")
        sim_host.set_fault("xl-create-fail", "no room", domain="lx-dm")
        assert start_error(d, guest["path"])
        assert "no room" in d.prop(guest["path"], "StateReason")

        sim_host.clear_fault("xl-create-fail", domain="lx-dm")
        sim_host.set_fault("stubdom-crash-ms", "400", domain="lx-dm")
        d.busctl("call", "org.xen.Stubdom", guest["path"], "org.xen.Stubdom.Guest", "Start",
                 "a{sv}", "0")
        g = sim_host.domid("lx")
        wait_for(lambda: sim_host.domains()[g].get("reason") == 3,
                 what="the guest to be crashed after its Linux stub's death")
        assert "the guest was crashed (on_stubdom_death = crash-guest)" in d.log()


def test_sim_linux_stub_needs_readable_dm_argv_and_has_a_console(sim_host, tmp_path):
    """The sim's side alone: a Linux stub whose dm-argv is missing or hidden from it never
    runs (as the real stub's init cannot start qemu), and its console is a pty the sim's
    xenconsoled publishes and closes with the domain."""
    from simhost import BUILD
    h = sim_host
    h.xl("create", HVM)
    g = h.domid("hvmconfig")
    uuid = h.xs_read(f"/local/domain/{g}/vm").split("/")[-1]
    cfg = tmp_path / "lx-dm.cfg"
    cfg.write_text(f'name = "lx-dm"\ntype = "pv"\nmemory = 136\n'
                   f'kernel = "{BOOT}/qemu-stubdom-linux-kernel"\n'
                   f'ramdisk = "{BOOT}/qemu-stubdom-linux-rootfs"\n')

    def boot(prepare):
        h.xl("create", "-p", cfg)
        s = h.domid("lx-dm")
        h.run(BUILD / "xensim", "set-target", h.dir, s, g, check=True)
        h.run(BUILD / "xs-probe", "set-target", s, g, check=True)
        dm = f"/local/domain/{s}/device-model/{g}"
        h.run(BUILD / "xs-probe", "mkdir", dm, check=True)
        h.xs_chmod(dm, f"n{s}", f"r{g}")
        prepare(s)
        tty = h.xs_read(f"/local/domain/{s}/console/tty")
        assert tty.startswith("/dev/pts/")
        console = os.open(tty, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
        h.xl("unpause", s)
        return s, dm, console

    def console_text(fd):
        text = [b""]

        def more():
            try:
                text[0] += os.read(fd, 4096)
            except BlockingIOError:
                pass
            return b"booting" in text[0]
        wait_for(more, what="the stub's boot line on its console", progress=lambda: text[0])
        return text[0].decode()

    # No dm-argv: qemu never starts, nothing reports running.
    s, dm, console = boot(lambda s: None)
    try:
        assert "Linux stub domain lx-dm (xensim stand-in) booting" in console_text(console)
        wait_for(lambda: "qemu does not start" in
                 (h.dir / "log" / f"dom-{s}.log").read_text(), what="the boot log")
        assert h.xs_read(f"{dm}/state") is None
        h.xl("destroy", s)
        # xenconsoled lets go of the pty with the domain: the reader sees it close.
        wait_for(lambda: closed(console), what="the console pty to close")
    finally:
        os.close(console)

    # dm-argv the stub may not read (dom0-only): the same.
    def hidden(s):
        h.xs_write(f"/vm/{uuid}/image/dm-argv/001", "xenfv")
        h.xs_chmod(f"/vm/{uuid}/image/dm-argv", "n0")
    s, dm, console = boot(hidden)
    os.close(console)
    wait_for(lambda: "cannot read" in (h.dir / "log" / f"dom-{s}.log").read_text(),
             what="the boot log")
    assert h.xs_read(f"{dm}/state") is None


def closed(fd):
    try:
        return os.read(fd, 4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True  # EIO: the pty's other side is gone



def stub_prints_and_ends(host, d, lines, end):
    """A Linux stub (flavour linux, never running by itself) prints `lines` on its console,
    as the sim's domains print (their console ring), then dies (end = "death": the
    kernel's panic, the init's poweroff) or is left to time out; the guest's reason."""
    d.write_config_dir_file("stubdom-lx", 'flavour = "linux"\n')
    host.set_fault("stubdom-never-running", domain="lx-dm")
    host.xl("create", HVM, 'name="lx"')
    wait_for(lambda: "logging the stub domain's console" in d.log(),
             what="stubdomd to follow the stub's console")
    fd = os.open(host.dir / "console" / str(host.domid("lx-dm")), os.O_WRONLY | os.O_NONBLOCK)
    os.write(fd, "".join(line + "\r\n" for line in lines).encode())
    os.close(fd)
    log = host.dir / "xenlog" / "qemu-dm-lx.log"
    wait_for(lambda: lines[-1] in read(log), what="the stub's lines in its console log",
             progress=lambda: read(log))
    if end == "death":
        host.xl("destroy", "lx-dm")
    guest = d.wait_state("lx", "failed")
    return d.prop(guest["path"], "StateReason")


@pytest.mark.parametrize("end, why", [
    ("timeout", "lx-dm did not reach running within 6 s"),
    ("death", "died while starting"),
])
def test_a_linux_stub_that_fails_to_start_is_failed_with_its_last_console_lines(sim_host, end, why):
    """What the stub printed last (a real stub's init and QEMU say why they stopped there)
    is quoted in the failed reason, and only this stub's lines: the log is appended to.
    The lines go into the stub's console as the sim's domains print (its console ring)."""
    logs = sim_host.dir / "xenlog"
    logs.mkdir(exist_ok=True)
    (logs / "qemu-dm-lx.log").write_text("an earlier stub's last words\n")
    with Stubdomd(sim_host, settings=linux_settings(sim_host, start_timeout_ms=6000)) as d:
        reason = stub_prints_and_ends(sim_host, d, ["stubdom-init: starting QEMU",
                                                    "stubdom-init: FAIL QEMU exited with status 1"],
                                      end)
        assert why in reason
        assert reason.endswith("; its console ended with: stubdom-init: starting QEMU | "
                               "stubdom-init: FAIL QEMU exited with status 1"), reason


# What a real Linux stub prints when it cannot be QEMU's home (lines from the kernel, from
# stubimage/init and from QEMU 7.2), each ending the spawn its own way.
STUB_FAILURES = {
    "bad-image": ("death",
                  ["Initramfs unpacking failed: junk within compressed archive",
                   "Kernel panic - not syncing: No working init found.  Try passing init= "
                   "option to kernel. See Linux Documentation/admin-guide/init.rst for guidance."]),
    "rootfs-without-qemu": ("death",
                            ["stubdom-init: domid 9, guest 8 (/vm/0b1c)",
                             "stubdom-init: FAIL /usr/libexec/xen-qemu-system-i386 is not in "
                             "this rootfs (rebuild it with stubdom-mkimage)"]),
    "qemu-exits": ("death",
                   ["stubdom-init: starting QEMU: -xen-domid 8 -no-shutdown -nodefaults",
                    "xen-qemu-system-i386: -drive file=/dev/xvda,if=ide,index=0,media=disk,"
                    "format=host_device,cache=writeback: Could not open '/dev/xvda': No such file "
                    "or directory",
                    "stubdom-init: FAIL QEMU exited with status 1 before its monitor was up"]),
    "no-qmp": ("timeout",
               ["stubdom-init: QEMU pid 93, monitor up",
                "stubdom-init: vchan-socket-proxy pid 95 serves "
                "/local/domain/9/device-model/8/qmp-vchan"]),
}


@pytest.mark.parametrize("case", sorted(STUB_FAILURES))
def test_each_way_a_linux_stub_fails_names_its_cause(sim_host, case):
    """A bad image (the kernel finds no init), a rootfs without QEMU, a QEMU that exits at
    once, a stub whose QEMU never answers: each ends in `failed` with the stub's own last
    lines, not a bare timeout. The sim's stub cannot run the real init, so the lines the
    real one prints go into its console ring."""
    end, lines = STUB_FAILURES[case]
    with Stubdomd(sim_host, settings=linux_settings(sim_host, start_timeout_ms=6000)) as d:
        reason = stub_prints_and_ends(sim_host, d, lines, end)
        cause = "died while starting" if end == "death" else "lx-dm did not reach running"
        assert cause in reason, reason
        assert reason.endswith("; its console ended with: " + " | ".join(lines)), reason
        wait_for(lambda: sim_host.domid("lx-dm") is None, what="the failed stub to be gone")
