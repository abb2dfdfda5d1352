"""Guest-writable data (issue 9, DESIGN.md section 4 "Trust"): for every xenstore node
stubdomd reads, a guest that owns it or writes garbage there is ignored, the daemon logs
which node and why, and it never acts on the value (no spawn for a wrong uuid, no link to
another guest's stub domain, no early "running", no crash).

Every node stubdomd reads (grep daemon/ for paths:: and readTrusted; core/XenPaths.hpp):

| node                                      | read by                         | who may own it | value checked                 |
|-------------------------------------------|---------------------------------|----------------|-------------------------------|
| /local/domain/D/name                      | DomainProbe (HVM discovery),    | dom0           | a file name part: no '/', no   |
|                                           | discoverPv (PV-GRUB), adoption  |                | control char, <= 247 bytes,    |
|                                           | of unlinked "-dm" domains       |                | UTF-8                          |
| /local/domain/D/vm                        | DomainProbe, probePvBoot        | dom0           | /vm/<uuid 8-4-4-4-12 hex>,     |
|                                           |                                 |                | not another guest's uuid      |
| /local/domain/D/target                    | DomainProbe, adoptExisting      | dom0           | a domid                       |
| /local/domain/G/image/device-model-pid    | discover (dom0 qemu check)      | dom0           | a process id                  |
| /local/domain/G/image/device-model-domid  | discover (adoption)             | dom0           | a domid whose target is G     |
| /vm/U/image/kernel                        | probePvBoot (PV-GRUB listing)   | dom0           | a PV-GRUB image name          |
| /local/domain/S/device-model/G/state      | checkRunning, adoption          | S or dom0      | "running"                     |
| /local/domain/0/device-model/G/state      | checkRunning, adoption,         | S or dom0 (G   | "running"                     |
|                                           | becameRunning                   | can write the  |                               |
|                                           |                                 | directory)     |                               |
| /local/domain/S/console/vnc-port          | readVncPort                     | S or dom0      | a port 1..65535               |
| /local/domain/G/memory/static-max         | guestRamMiB (Linux flavour:     | dom0           | a KiB count (<= 15 digits)    |
|                                           | qemu's -m)                      |                |                               |
| /local/domain/G/memory/videoram           | guestVideoRamMiB (Linux flavour:| dom0           | a KiB count (<= 15 digits)    |
|                                           | vgamem_mb and the stub's memory)|                |                               |

(stubdom-dm, DisplayHost and the PV-GRUB tools read no xenstore node; the nodes stubdomd
only writes, such as image/dmargs and vncpasswd, are not listed.)

Guests cannot write as a domain in the sim; a node becomes the guest's (or the stub's)
the way xenstored makes a node created by that domain: owner = that domain. Values are
written before the owner changes only when the value is harmless, so no watch event ever
shows the daemon a dom0-owned version of a hostile value.
"""

import subprocess

import pytest

from simhost import sim_host, wait_for  # noqa: F401  (fixture)
from stubdomd import EXAMPLES, Stubdomd

HVM = str(EXAMPLES / "hvmconfig")
STUB = (EXAMPLES / "stubdom-hvmconfig").read_text()


def own(host, path: str, domid: int, value: str):
    """`path` = value, owned by `domid` as if that domain had written it: a harmless
    placeholder is made the domain's first, then the value is written."""
    if host.xs_read(path) is None:
        host.xs_write(path, "")
    host.xs_chmod(path, f"n{domid}")
    host.xs_write(path, value)
    assert host.xs_perms(path)[0] == f"n{domid}"


def logged(d, *parts, timeout=15):
    """Waits for a log line containing every part; returns it."""
    def line():
        return next((l for l in d.log().splitlines() if all(p in l for p in parts)), None)
    return wait_for(line, timeout=timeout, what=f"a log line with {parts}:\n{d.log()}")


def stub_names(host):
    names = (host.xs_read(f"/local/domain/{domid}/name") for domid in host.domains())
    return sorted(n for n in names if n and n.endswith("-dm"))


def create(host, d, name):
    if name != "hvmconfig":
        d.write_config_dir_file(f"stubdom-{name}", STUB)
    host.xl("create", HVM, f'name="{name}"', "memory=32")
    return host.domid(name)


# -- the nodes that tell stubdomd what a domain is (read once, at discovery) ----------------
#
# The guests exist before stubdomd starts, so the tampered node is in place before the
# daemon first looks (the same probe runs for a domain introduced later).

def tamper_name(host, g, other):
    own(host, f"/local/domain/{g}/name", g, "hvmconfig")
    return f"/local/domain/{g}/name", f"owned by domain {g}, not dom0"


def tamper_vm(host, g, other):
    # The guest points its vm at the other guest's /vm/<uuid>.
    own(host, f"/local/domain/{g}/vm", g, host.xs_read(f"/local/domain/{other}/vm"))
    return f"/local/domain/{g}/vm", f"owned by domain {g}, not dom0"


def tamper_target(host, g, other):
    # A guest claiming to be some domain's stub domain (and so never getting one itself).
    own(host, f"/local/domain/{g}/target", g, str(other))
    return f"/local/domain/{g}/target", f"owned by domain {g}, not dom0"


def garbage_vm(host, g, other):
    host.xs_write(f"/local/domain/{g}/vm", "/vm/../local/domain/0")
    return f"/local/domain/{g}/vm", "not /vm/<uuid>"


def garbage_target(host, g, other):
    host.xs_write(f"/local/domain/{g}/target", "1" * 4000)  # xenstore holds 4096 at most
    return f"/local/domain/{g}/target", "not a domid"


def garbage_name(host, g, other):
    # A name is part of the config file's name (<dir>/stubdom-NAME): no path in it.
    host.xs_write(f"/local/domain/{g}/name", "../../../etc/xen/stubdom-other")
    return f"/local/domain/{g}/name", "not a domain name"


def long_name(host, g, other):
    host.xs_write(f"/local/domain/{g}/name", "n" * 3000)
    return f"/local/domain/{g}/name", "not a domain name"


def utf8_name(host, g, other):
    # Not UTF-8: as a D-Bus string it would make ListGuests fail for every client.
    subprocess.run(["xenstore-write", f"/local/domain/{g}/name", b"bad\xff\xfename"],
                   env=host.env, check=True)
    return f"/local/domain/{g}/name", "not valid UTF-8"


def shared_uuid(host, g, other):
    # Even from dom0 (a toolstack bug): two domains with one uuid are one D-Bus object.
    host.xs_write(f"/local/domain/{g}/vm", host.xs_read(f"/local/domain/{other}/vm"))
    return f"/local/domain/{g}/vm", "already the uuid of domain"


@pytest.mark.parametrize("tamper", [tamper_name, tamper_vm, tamper_target, garbage_vm,
                                    garbage_target, garbage_name, long_name, utf8_name,
                                    shared_uuid],
                         ids=lambda f: f.__name__)
def test_a_domain_whose_identity_nodes_cannot_be_trusted_is_ignored(sim_host, tamper):
    d = Stubdomd(sim_host)
    other = create(sim_host, d, "other")
    g = create(sim_host, d, "hvmconfig")
    node, reason = tamper(sim_host, g, other)
    with d:
        line = logged(d, f"ignoring domain {g}", node, reason)
        d.wait_state("other", "running")
        listed = d.guests()
        assert [n for n, v in listed.items() if v["domid"] == g] == [], (line, listed)
        assert listed["other"]["domid"] == other
        assert stub_names(sim_host) == ["other-dm"]
        assert d.proc.poll() is None


# -- image/device-model-pid: a dom0 qemu the toolstack started (read at discovery) -----------

@pytest.mark.parametrize("how", ["guest-owned", "garbage", "huge"])
def test_a_device_model_pid_that_cannot_be_trusted_does_not_fail_the_guest(sim_host, how):
    """A dom0-owned pid of a process that is not stubdom-dm fails the guest (never two
    device models). One the guest wrote, or one that is no pid, must not: the guest gets
    its stub domain, and the log says which node was ignored and why."""
    d = Stubdomd(sim_host)
    g = create(sim_host, d, "hvmconfig")
    path = f"/local/domain/{g}/image/device-model-pid"
    qemu = sim_host.spawn("sleep", "600")  # a dom0 process that is not stubdom-dm
    if how == "guest-owned":
        own(sim_host, path, g, str(qemu.pid))
        reason = f"owned by domain {g}, not dom0"
    else:
        sim_host.xs_write(path, "12abc" if how == "garbage" else "9" * 40)
        reason = "not a process id"
    with d:
        logged(d, path, reason)
        d.wait_state("hvmconfig", "running")
        assert stub_names(sim_host) == ["hvmconfig-dm"]


def test_a_dom0_device_model_pid_still_fails_the_guest(sim_host):
    """The check above is not simply switched off: dom0's own record of a dom0 qemu wins."""
    d = Stubdomd(sim_host)
    g = create(sim_host, d, "hvmconfig")
    qemu = sim_host.spawn("sleep", "600")
    sim_host.xs_write(f"/local/domain/{g}/image/device-model-pid", str(qemu.pid))
    with d:
        guest = d.wait_state("hvmconfig", "failed")
        assert "already has a device model in dom0" in d.prop(guest["path"], "StateReason")
        assert stub_names(sim_host) == []


# -- image/device-model-domid: which stub domain a restarted daemon adopts -------------------

@pytest.mark.parametrize("how", ["guest-owned", "other-guests-stub", "garbage"])
def test_a_restarted_daemon_adopts_only_the_guests_own_linked_stub(sim_host, how):
    d = Stubdomd(sim_host)
    d.write_config_dir_file("stubdom-second", STUB)
    with d:
        g = create(sim_host, d, "hvmconfig")
        create(sim_host, d, "second")
        d.wait_state("hvmconfig", "running")
        d.wait_state("second", "running")
    second_stub = sim_host.domid("second-dm")
    path = f"/local/domain/{g}/image/device-model-domid"
    if how == "guest-owned":
        own(sim_host, path, g, sim_host.xs_read(path))
        reason = f"owned by domain {g}, not dom0"
    elif how == "other-guests-stub":
        sim_host.xs_write(path, str(second_stub))
        reason = f"domain {second_stub} is the stub domain of domain {sim_host.domid('second')}"
    else:
        sim_host.xs_write(path, "x" * 4000)
        reason = "not a domid"
    with d:
        logged(d, path, reason)
        d.wait_state("hvmconfig", "running")
        d.wait_state("second", "running")
        guests = d.guests()
        # second's stub domain is second's alone, untouched.
        assert sim_host.domid("second-dm") == second_stub == guests["second"]["stub_domid"]
        assert guests["hvmconfig"]["stub_domid"] == sim_host.domid("hvmconfig-dm")
        assert guests["hvmconfig"]["stub_domid"] != second_stub
        assert stub_names(sim_host) == ["hvmconfig-dm", "second-dm"]
        assert sim_host.xs_read(
            f"/local/domain/{sim_host.domid('hvmconfig-dm')}/target") == str(g)


# -- the device model's state: written by the stub domain, watched while it starts -----------

def starting(sim_host, d):
    """hvmconfig linked to a stub domain that never reports running by itself."""
    sim_host.set_fault("stubdom-never-running")
    g = create(sim_host, d, "hvmconfig")
    guest = d.wait_state("hvmconfig", "starting")
    return g, guest["stub_domid"]


@pytest.mark.parametrize("where", ["legacy", "stub"])
def test_running_written_by_the_guest_is_not_believed(sim_host, where):
    """The legacy directory is writable by the guest (libxl's perms, so the stub can
    write there through its target); a `running` the guest wrote must not count, one the
    stub wrote must."""
    d = Stubdomd(sim_host)
    with d:
        g, s = starting(sim_host, d)
        path = (f"/local/domain/0/device-model/{g}/state" if where == "legacy"
                else f"/local/domain/{s}/device-model/{g}/state")
        own(sim_host, path, g, "running")
        logged(d, path, f"owned by domain {g}, not dom0 or the stub domain {s}")
        assert d.guests()["hvmconfig"]["state"] == "starting"
        own(sim_host, path, s, "running")  # now the stub's own word
        d.wait_state("hvmconfig", "running")


def test_a_guest_owned_state_is_not_adopted_as_running(sim_host):
    d = Stubdomd(sim_host)
    with d:
        g, s = starting(sim_host, d)
        own(sim_host, f"/local/domain/0/device-model/{g}/state", g, "running")
        logged(d, f"/local/domain/0/device-model/{g}/state", "owned by domain")
    # Restarted, the daemon finds a linked stub that never ran: it must not adopt it as
    # running on the guest's word, but start over.
    sim_host.clear_fault("stubdom-never-running")
    with d:
        logged(d, "never reached running")
        d.wait_state("hvmconfig", "running")
        assert sim_host.domid("hvmconfig-dm") != s
        assert stub_names(sim_host) == ["hvmconfig-dm"]


# -- console/vnc-port: published by the stub's vfb backend -----------------------------------

VNC_STUB = ('kernel = "/usr/lib/xen/boot/ioemu-stubdom.gz"\n'
            "vif = [ '', 'ip=10.0.1.1,mac=aa:00:00:12:23:34' ]\n"
            "disk = [ 'file:/tmp/test,hdb,r' ]\n"
            "vfb = [ 'type=vnc,vncdisplay=3,vncunused=0' ]\n")


@pytest.mark.parametrize("value,owner,reason", [
    ("abc", "stub", "not a port number"),
    ("99999", "stub", "not a port number"),
    ("0", "stub", "not a port number"),
    (" 5900", "stub", "not a port number"),
    ("5" * 4000, "stub", "not a port number"),
    ("5999", "guest", "owned by domain"),
])
def test_a_vnc_port_that_is_no_port_or_not_the_stubs_is_not_shown(sim_host, value, owner,
                                                                    reason):
    for name in ("DISPLAY", "XAUTHORITY"):
        sim_host.env.pop(name, None)
    d = Stubdomd(sim_host)
    d.write_config_dir_file("stubdom-hvmconfig", VNC_STUB)
    d.write_config_dir_file("hvmconfig", "vnc = 0\nsdl = 0\n")
    with d:
        g = create(sim_host, d, "hvmconfig")
        guest = d.wait_state("hvmconfig", "running")
        s = guest["stub_domid"]
        path = f"/local/domain/{s}/console/vnc-port"
        wait_for(lambda: d.prop(guest["path"], "DisplayPort") == 5903,
                 what="the vfb backend's port")
        own(sim_host, path, s if owner == "stub" else g, value)
        logged(d, path, reason)
        wait_for(lambda: d.prop(guest["path"], "DisplayPort") == -1,
                 what="DisplayPort to be unknown")
        # The stub's own word, a port, is shown again.
        own(sim_host, path, s, "5904")
        wait_for(lambda: d.prop(guest["path"], "DisplayPort") == 5904,
                 what="DisplayPort 5904")
        assert d.guests()["hvmconfig"]["state"] == "running"


# -- /vm/<uuid>/image/kernel: what marks a PV guest booted through PV-GRUB --------------------

def test_a_pv_grub_kernel_node_the_guest_owns_does_not_list_it(sim_host):
    cfg = sim_host.dir / "pvg.cfg"
    cfg.write_text('name = "pvg"\ntype = "pv"\nmemory = 64\n'
                   'kernel = "/usr/lib/xen/boot/pv-grub-x86_64.gz"\n'
                   'extra = "(hd0,0)/boot/grub/menu.lst"\n')
    d = Stubdomd(sim_host)
    sim_host.xl("create", str(cfg))
    p = sim_host.domid("pvg")
    uuid = sim_host.xs_read(f"/local/domain/{p}/vm").split("/")[-1]
    path = f"/vm/{uuid}/image/kernel"
    own(sim_host, path, p, "/usr/lib/xen/boot/pv-grub-x86_64.gz")
    with d:
        logged(d, f"PV domain {p}", path, f"owned by domain {p}, not dom0")
        assert "pvg" not in d.guests()


# -- memory/static-max and memory/videoram: the Linux stub domain's qemu sizes ---------------

LINUX_STUB = ('stubdomain_kernel = "{boot}/qemu-stubdom-linux-kernel"\n'
              'stubdomain_ramdisk = "{boot}/qemu-stubdom-linux-rootfs"\n'
              "disk = [ 'phy:/dev/vg/lx,hda,w' ]\n")


@pytest.mark.parametrize("how", ["guest-owned", "garbage"])
def test_memory_sizes_that_cannot_be_trusted_are_not_used_for_a_linux_stub(sim_host, how):
    d = Stubdomd(sim_host)
    d.write_config_dir_file("stubdom-lx", LINUX_STUB.format(boot=sim_host.dir / "boot"))
    sim_host.xl("create", HVM, 'name="lx"', "memory=256", "videoram=8")
    g = sim_host.domid("lx")
    nodes = {f"/local/domain/{g}/memory/static-max": "67108864",  # 64 GiB for qemu's -m
             f"/local/domain/{g}/memory/videoram": "4194304"}     # 4 GiB of video memory
    for path, value in nodes.items():
        if how == "guest-owned":
            own(sim_host, path, g, value)
        else:
            sim_host.xs_write(path, value + "kib")
    reason = f"owned by domain {g}, not dom0" if how == "guest-owned" else "not a KiB count"
    with d:
        for path in nodes:
            logged(d, path, reason)
        guest = d.wait_state("lx", "running")
        base = f"/vm/{guest['uuid']}/image/dm-argv"
        argv = [sim_host.xs_read(f"{base}/{k}") for k in sim_host.xs_ls(base)]
        assert "65536" not in argv and "vgamem_mb=4096" not in " ".join(argv), argv
        cfg = (sim_host.dir / "stubdomd-run" / "lx-dm.cfg").read_text()
        # The Linux stub's default 256 MiB and the default video memory, not the 4 GiB the
        # node asked for.
        memory = int(cfg.split("\nmemory = ", 1)[1].split("\n", 1)[0])
        assert 256 <= memory <= 256 + 16, cfg

