"""The fake xl: the xenstore tree libxl 4.17 writes, list/domid output, destroy, a stub
domain's simulated boot, and xl's error messages."""

import re

import pytest

from simhost import BUILD, SOURCE_ROOT, sim_host, wait_for  # noqa: F401

HVM = SOURCE_ROOT / "examples" / "hvmconfig"
STUB = SOURCE_ROOT / "examples" / "stubdom-hvmconfig"

HEADER = "Name                                        ID   Mem VCPUs\tState\tTime(s)"


def create_stub(h, guest_domid, *extra):
    """The README's stub domain config, created paused as stubdomd does."""
    h.xl("create", "-p", STUB, "name=\"hvmconfig-dm\"", f"extra=\"-d {guest_domid}\"", *extra)
    return h.domid("hvmconfig-dm")


def link_stub(h, stub, guest):
    """What DESIGN.md section 4 has the toolstack (stubdomd) do to link a stub domain."""
    h.run(BUILD / "xensim", "set-target", h.dir, stub, guest, check=True)
    h.run(BUILD / "xs-probe", "set-target", stub, guest, check=True)
    h.xs_write(f"/local/domain/{stub}/target", str(guest))
    h.xs_write(f"/local/domain/{guest}/image/device-model-domid", str(stub))
    dm = f"/local/domain/{stub}/device-model/{guest}"
    h.run(BUILD / "xs-probe", "mkdir", dm, check=True)
    h.xs_chmod(dm, f"n{stub}", f"r{guest}")


def test_create_hvm_writes_libxls_tree(sim_host):
    h = sim_host
    r = h.xl("create", HVM)
    assert f"Parsing config from {HVM}" in r.stderr
    assert h.domid("hvmconfig") == 1
    dom = "/local/domain/1"
    assert h.xs_read(f"{dom}/name") == "hvmconfig"
    assert h.xs_read(f"{dom}/domid") == "1"
    vm = h.xs_read(f"{dom}/vm")
    uuid = vm.split("/")[2]
    assert re.fullmatch(r"/vm/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        vm)
    assert h.xs_read(f"{vm}/name") == "hvmconfig"
    assert h.xs_read(f"{vm}/uuid") == uuid
    assert h.xs_read(f"{vm}/image/ostype") == "hvm"
    assert h.xs_read("/libxl/1/type") == "hvm"
    assert h.xs_read(f"{dom}/memory/target") == str(256 * 1024)
    assert h.xs_read(f"{dom}/platform/acpi") == "1"

    # Dom0 owns the domain's tree and lets the guest read it...
    for node in ("", "/name", "/domid", "/vm", "/device", "/control", "/memory",
                 "/memory/target", "/cpu", "/hvmloader"):
        assert h.xs_perms(dom + node) == ["n0", "r1"], node
    assert h.xs_perms(vm) == ["n0", "r1"]
    assert h.xs_perms("/libxl/1") == ["n0"]
    # ...and gives it the nodes it talks back through (libxl's rwperm: guest-owned).
    for node in ("/data", "/drivers", "/feature", "/attr", "/error", "/control/shutdown",
                 "/control/feature-poweroff", "/device/suspend/event-channel"):
        assert h.xs_perms(dom + node) == ["n1"], node

    # The vif, with dom0 as its backend.
    be = "/local/domain/0/backend/vif/1/0"
    assert h.xs_read(f"{be}/mac") == "aa:00:00:12:23:34"
    assert h.xs_read(f"{be}/ip") == "10.0.1.1"
    assert h.xs_read(f"{be}/frontend") == f"{dom}/device/vif/0"
    assert h.xs_perms(be) == ["n0", "r1"]
    assert h.xs_perms(f"{dom}/device/vif/0") == ["n1", "r0"]

    info = h.domains()[1]
    assert info["hvm"] == 1 and info["paused"] == 0 and info["dying"] == 0
    assert info["tot_kib"] == (256 + 8) * 1024  # memory plus qemu-xen's default video RAM


def test_create_pv_stub_domain_and_link(sim_host):
    h = sim_host
    h.xl("create", "-p", HVM)
    stub = create_stub(h, 1)
    assert stub == 2
    info = h.domains()[stub]
    assert info["hvm"] == 0 and info["paused"] == 1
    assert info["tot_kib"] == 32 * 1024  # libxl's default memory
    vm = h.xs_read(f"/local/domain/{stub}/vm")
    assert h.xs_read(f"{vm}/image/ostype") == "linux"
    assert h.xs_read(f"{vm}/image/kernel") == "/usr/lib/xen/boot/ioemu-stubdom.gz"
    assert h.xs_read(f"{vm}/image/cmdline") == "-d 1"
    assert h.xs_read(f"/libxl/{stub}/type") == "pv"
    # The README's vifs (the first reserved for VNC) and disks.
    assert h.xs_ls(f"/local/domain/0/backend/vif/{stub}") == ["0", "1"]
    assert h.xs_read(f"/local/domain/0/backend/vif/{stub}/1/ip") == "10.0.1.1"
    assert h.xs_read(f"/local/domain/0/backend/vif/{stub}/1/mac") == "aa:00:00:12:23:34"
    vbds = h.xs_ls(f"/local/domain/0/backend/vbd/{stub}")
    assert len(vbds) == 3
    params = sorted(h.xs_read(f"/local/domain/0/backend/vbd/{stub}/{v}/params") for v in vbds)
    assert params == ["/dev/sda6", "/tmp/install.iso", "/tmp/test"]
    assert h.xs_perms(f"/local/domain/{stub}/console") == [f"n{stub}", "r0"]

    link_stub(h, stub, 1)
    assert h.domains()[stub]["paused"] == 1
    assert h.xs_read(f"/local/domain/{stub}/target") == "1"


def test_stub_domain_boots_on_unpause(sim_host):
    h = sim_host
    h.set_setting("boot-delay-ms", 50)
    h.xl("create", "-p", HVM)
    stub = create_stub(h, 1, "vfb=['type=vnc']")
    link_stub(h, stub, 1)
    state = f"/local/domain/{stub}/device-model/1/state"
    h.xl("unpause", str(stub))
    assert wait_for(lambda: h.xs_read(state), what="stub state") == "running"
    # Written as the stub domain would write it: the node is the stub's own.
    assert h.xs_perms(state) == [f"n{stub}", "r1"]
    assert h.xs_read(f"/local/domain/{stub}/console/vnc-port") == "5900"
    assert h.domains()[stub]["paused"] == 0


def test_stub_boot_respects_permissions(sim_host):
    h = sim_host
    h.set_setting("boot-delay-ms", 0)
    h.xl("create", "-p", HVM)
    stub = create_stub(h, 1)
    h.run(BUILD / "xensim", "set-target", h.dir, stub, 1, check=True)
    # No device-model directory the stub may write to: dom0's legacy path is not its own.
    h.run(BUILD / "xs-probe", "mkdir", "/local/domain/0/device-model/1", check=True)
    h.xl("unpause", str(stub))
    log = h.dir / "log" / f"dom-{stub}.log"
    wait_for(lambda: log.exists() and "may not write" in log.read_text())
    assert h.xs_read("/local/domain/0/device-model/1/state") is None
    # Once the toolstack grants the guest (hence its stub) the legacy path, it is used.
    h.xl("destroy", str(stub))
    stub = create_stub(h, 1)
    h.run(BUILD / "xensim", "set-target", h.dir, stub, 1, check=True)
    h.xs_chmod("/local/domain/0/device-model/1", "n0", "b1")
    h.xl("unpause", str(stub))
    assert wait_for(lambda: h.xs_read("/local/domain/0/device-model/1/state")) == "running"


def test_pv_domain_without_target_does_not_boot(sim_host):
    h = sim_host
    h.set_setting("boot-delay-ms", 0)
    h.xl("create", STUB, "name=\"plain-pv\"")
    assert h.domains()[1]["paused"] == 0
    assert not (h.dir / "log" / "dom-1.log").exists()


def test_list_and_domid(sim_host):
    h = sim_host
    h.xl("create", HVM)
    out = h.xl("list").stdout.splitlines()
    assert out[0] == HEADER
    assert re.fullmatch(r"Domain-0 +0 +1024 +\d+ +r----- +0\.0", out[1])
    assert re.fullmatch(r"hvmconfig +1 +264 +1 +-b---- +0\.0", out[2])
    assert len(out) == 3
    # The columns line up the way xl's printf("%-40s %5d %5lu %5d ...") does.
    assert HEADER.index("ID") == 44 and out[2][41:46] == "    1"
    one = h.xl("list", "hvmconfig").stdout.splitlines()
    assert one == [HEADER, out[2]]
    assert h.xl("list", "1").stdout.splitlines() == [HEADER, out[2]]
    assert h.xl("domid", "hvmconfig").stdout == "1\n"
    assert h.xl("domid", "Domain-0").stdout == "0\n"
    h.xl("pause", "hvmconfig")
    assert "--p---" in h.xl("list", "hvmconfig").stdout
    h.xl("unpause", "hvmconfig")
    assert "-b----" in h.xl("list", "hvmconfig").stdout


def test_destroy_removes_everything(sim_host):
    h = sim_host
    h.xl("create", HVM)
    vm = h.xs_read("/local/domain/1/vm")
    h.xl("destroy", "hvmconfig")
    assert h.xs_read("/local/domain/1") is None
    assert h.xs_read(vm) is None
    assert h.xs_read("/libxl/1") is None
    assert h.xs_ls("/local/domain/0/backend/vif") == []
    assert 1 not in h.domains()
    assert len(h.xl("list").stdout.splitlines()) == 2
    # Domids are not reused at once (libxl's recent-domid history).
    h.xl("create", HVM)
    assert h.domid("hvmconfig") == 2


def test_destroying_a_guest_takes_its_stub_domain(sim_host):
    """libxl_get_stubdom_id: destroy follows image/device-model-domid."""
    h = sim_host
    h.xl("create", "-p", HVM)
    stub = create_stub(h, 1)
    link_stub(h, stub, 1)
    h.xl("destroy", "1")
    assert set(h.domains()) == {0}
    assert h.xs_read(f"/local/domain/{stub}") is None


def test_missing_config_file(sim_host):
    r = sim_host.xl("create", "/nonexistent/guest.cfg", check=False)
    assert r.returncode == 3
    assert ("Failed to read config file: /nonexistent/guest.cfg: No such file or directory"
            in r.stderr)


def test_syntax_error_names_file_and_line(sim_host, tmp_path):
    cfg = tmp_path / "broken.cfg"
    cfg.write_text('name = "broken"\nmemory = = 5\n')
    r = sim_host.xl("create", cfg, check=False)
    assert r.returncode == 1
    assert f"{cfg}:2: config parsing error near `=': syntax error" in r.stderr
    assert "Failed to parse config: Invalid argument" in r.stderr
    assert sim_host.domid("broken") is None


def test_extra_settings_on_the_command_line_are_parsed_like_the_file(sim_host):
    r = sim_host.xl("create", HVM, "memory=oops", check=False)
    assert r.returncode == 1
    assert f"{HVM}:" in r.stderr and "syntax error" in r.stderr


def test_missing_name(sim_host, tmp_path):
    cfg = tmp_path / "noname.cfg"
    cfg.write_text('type = "hvm"\n')
    r = sim_host.xl("create", cfg, check=False)
    assert r.returncode == 1
    assert "Domain name must be specified." in r.stderr


def test_duplicate_name_is_refused(sim_host):
    sim_host.xl("create", HVM)
    r = sim_host.xl("create", HVM, check=False)
    assert r.returncode == 3
    assert 'Domain name "hvmconfig" already exists.' in r.stderr


def test_missing_kernel(sim_host, tmp_path):
    cfg = tmp_path / "pv.cfg"
    cfg.write_text('name = "pv"\nkernel = "/nonexistent/vmlinuz"\n')
    r = sim_host.xl("create", cfg, check=False)
    assert r.returncode == 3
    assert "failed to open file '/nonexistent/vmlinuz'" in r.stderr
    assert sim_host.domid("pv") is None


@pytest.mark.parametrize("argv,message", [
    (["destroy", "nosuch"], "nosuch is an invalid domain identifier (rc=-6)"),
    (["unpause", "nosuch"], "nosuch is an invalid domain identifier (rc=-6)"),
    (["list", "nosuch"], "nosuch is an invalid domain identifier (rc=-6)"),
    (["domid", "nosuch"], "Can't get domid of domain name 'nosuch', maybe this domain does not exist."),
    (["destroy", "42"], "destroy failed (rc=-6)"),
    (["list", "42"], "Error: Domain '42' does not exist."),
    (["destroy", "0"], "Not destroying domain 0; use -f to force."),
])
def test_unknown_domain(sim_host, argv, message):
    r = sim_host.xl(*argv, check=False)
    assert r.returncode == 1
    assert message in r.stderr


def test_unpause_of_a_missing_domid_exits_0_like_xl(sim_host):
    # Real xl ignores libxl_domain_unpause's result: only the message tells.
    r = sim_host.xl("unpause", "42", check=False)
    assert r.returncode == 0
    assert "Domain 42:unpausing domain" in r.stderr


def test_xl_needs_a_host(tmp_path):
    import subprocess
    r = subprocess.run([str(BUILD / "xl"), "list"], capture_output=True, text=True,
                       env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 1
    assert "XENSIM_DIR is not set" in r.stderr


def test_unpause_through_libxenctrl_boots_without_leaking_descriptors(sim_host):
    """stubdomd unpauses through the shim; the boot helper it forks must not keep any of
    the caller's descriptors (its bus connection would outlive it)."""
    import os
    import subprocess
    h = sim_host
    h.set_setting("boot-delay-ms", 1500)
    h.xl("create", "-p", HVM)
    stub = create_stub(h, 1)
    link_stub(h, stub, 1)
    r, w = os.pipe()
    try:
        subprocess.run([str(BUILD / "xc-probe"), "unpause", str(stub)], check=True,
                       env={**h.env, "LD_PRELOAD": str(h.shim)}, pass_fds=(w,))
    finally:
        os.close(w)
    # xc-probe returns once the helper is forked; it runs xensim-dom a moment later (the
    # boot delay keeps it there for 1.5 s after that).
    helper = wait_for(lambda: h.run("pgrep", "-f", f"xensim-dom {h.dir} {stub}").stdout.split(),
                      what="the boot helper to run xensim-dom")
    assert len(helper) == 1
    fds = sorted(int(fd) for fd in os.listdir(f"/proc/{helper[0]}/fd"))
    assert fds == [0, 1, 2]
    # The caller's pipe is closed everywhere: reading it ends at once (and does not
    # block, which would mean a writer still holds it).
    os.set_blocking(r, False)
    assert os.read(r, 1) == b""
    os.close(r)
    state = f"/local/domain/{stub}/device-model/1/state"
    assert wait_for(lambda: h.xs_read(state), what="stub state") == "running"


def test_the_domain_table_is_whole_at_every_instant_even_when_xl_is_killed(sim_host):
    """A toolstack SIGKILLed with the daemon that ran it must not break the hypervisor's
    state: a writer's half-done edit is undone from the table's journal. A reader without
    the lock sees a whole table at every instant while xl commands run and are killed."""
    import random
    import threading
    import time
    h = sim_host
    stop = threading.Event()
    torn = []
    checks = []

    def read_without_the_lock():
        while not stop.is_set():
            r = h.run(BUILD / "xensim", "check", h.dir)
            checks.append(r.stdout.strip())
            if r.returncode != 0 or r.stdout.strip() != "ok":
                torn.append(r.stdout + r.stderr)

    reader = threading.Thread(target=read_without_the_lock)
    reader.start()
    rng = random.Random(7)
    try:
        for i in range(15):
            victim = h.spawn("xl", "create", HVM, f'name="killed{i}"', "memory=32")
            time.sleep(rng.uniform(0, 0.03))
            victim.kill()
            victim.wait()
            h.xl("create", HVM, f'name="whole{i}"', "memory=32")
    finally:
        stop.set()
        reader.join()
    assert checks, "the reader never read the table"
    assert not torn, f"the table was seen torn: {torn[:3]}"
    assert h.run(BUILD / "xensim", "check", h.dir).stdout.strip() == "ok"
    names = {h.xs_read(f"/local/domain/{d}/name") for d in h.domains()}
    assert {f"whole{i}" for i in range(15)} <= names


def test_a_writer_killed_between_any_two_of_its_changes_leaves_the_table_as_it_was(sim_host):
    """XENSIM_KILL_WRITER_AFTER=N kills a writer as it is about to make its N+1th change:
    for every N inside xl create's domain allocation (N = 0, 1, ... until the first kill
    that comes after it), the next reader finds the table whole and without the domain,
    and the name is free again."""
    h = sim_host
    before = h.run(BUILD / "xensim", "list", h.dir, check=True).stdout
    n = 0
    while True:
        r = h.run("xl", "create", HVM, 'name="halfway"', "memory=32",
                  env={"XENSIM_KILL_WRITER_AFTER": str(n)})
        assert r.returncode == -9, f"after {n} changes: {r.returncode} {r.stderr}"
        assert h.run(BUILD / "xensim", "check", h.dir).stdout.strip() == "ok", f"after {n}"
        if h.domid("halfway") is not None:
            break  # the allocation was committed; this kill came later
        assert h.run(BUILD / "xensim", "list", h.dir, check=True).stdout == before, f"after {n}"
        n += 1
        assert n < 64, "xl create was never killed after its allocation"
    # The allocation is several changes (record, counts, domid bitmaps, name index).
    assert n >= 4, f"the allocation was committed after {n} changes"
    # Killed past the allocation, the domain exists, as a killed xl leaves it half-built.
    h.xl("destroy", "halfway")
    h.xl("create", HVM, 'name="halfway"', "memory=32")
    assert h.run(BUILD / "xensim", "check", h.dir).stdout.strip() == "ok"
