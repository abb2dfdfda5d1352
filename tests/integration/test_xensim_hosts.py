"""Simulated hosts as a whole: up/down, isolation of two hosts, the VIRQ path, the
private system bus and the env file."""

import os
import subprocess

from simhost import (BUILD, SOURCE_ROOT, SimHost, process_gone, sim_host, wait_for,  # noqa: F401
                     wait_process)

HVM = SOURCE_ROOT / "examples" / "hvmconfig"
STUB = SOURCE_ROOT / "examples" / "stubdom-hvmconfig"


def processes_mentioning(text: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if process_gone(int(pid)):
            continue
        if text in cmd:
            found.append(f"{pid}: {cmd}")
    return found


def test_env_file(sim_host):
    env = (sim_host.dir / "env").read_text()
    d = sim_host.dir
    assert f"export XENSIM_DIR={d}\n" in env
    assert f"export XENSTORED_PATH={d}/socket\n" in env
    assert f"export DBUS_SYSTEM_BUS_ADDRESS=unix:path={d}/system_bus_socket\n" in env
    assert f"export XENSIM_PRELOAD={BUILD}/libxensim-shim.so\n" in env
    assert f'export PATH={BUILD}:"$PATH"\n' in env
    r = sim_host.run("bash", "-c", "command -v xl")
    assert r.stdout.strip() == str(BUILD / "xl")


def test_two_hosts_do_not_see_each_other():
    with SimHost() as a, SimHost() as b:
        a.xl("create", HVM)
        a.xs_write("/only/on/a", "1")
        assert b.xs_read("/only/on/a") is None
        assert b.xs_read("/local/domain/1") is None
        assert set(b.domains()) == {0}
        assert len(b.xl("list").stdout.splitlines()) == 2
        b.xl("create", HVM)  # the same name and domid on the other host
        assert a.domid("hvmconfig") == b.domid("hvmconfig") == 1
        rel_a = a.watch("@releaseDomain")
        b.xl("destroy", "hvmconfig")
        assert a.domains()[1]["dying"] == 0
        assert rel_a.count() == 1
        assert a.env["DBUS_SYSTEM_BUS_ADDRESS"] != b.env["DBUS_SYSTEM_BUS_ADDRESS"]


def test_down_leaves_no_process_and_is_idempotent(tmp_path):
    h = SimHost()
    with h:
        d = str(h.dir)
        h.set_setting("boot-delay-ms", 60000)  # a boot helper that is still waiting
        h.xl("create", "-p", HVM)
        h.xl("create", "-p", STUB, 'name="hvmconfig-dm"')
        h.run(BUILD / "xensim", "set-target", d, 2, 1, check=True)
        h.xl("unpause", "2")
        # The detached boot helper runs xensim-dom a moment after xl returns.
        wait_for(lambda: [p for p in processes_mentioning(d) if "xensim-dom" in p],
                 what="the stub's boot helper")
    assert processes_mentioning(d) == []
    assert not os.path.exists(d)
    # Down again, and down of a directory that never had a host: nothing to do.
    for target in (d, tmp_path / "never-up"):
        r = subprocess.run([str(BUILD / "xensim"), "down", str(target)])
        assert r.returncode == 0


def test_up_twice_is_refused_and_up_after_down_is_fresh(tmp_path):
    d = tmp_path / "host"
    with SimHost(d) as h:
        h.xl("create", HVM)
        r = subprocess.run([str(BUILD / "xensim"), "up", str(d)], capture_output=True,
                           text=True)
        assert r.returncode == 1
        assert "already up" in r.stderr
    with SimHost(d) as h:
        assert set(h.domains()) == {0}
        assert h.xs_read("/local/domain/1") is None


def test_virq_dom_exc_path(sim_host):
    """A crash without destroy: Xen raises VIRQ_DOM_EXC, xenstored re-checks and fires
    @releaseDomain; the domain stays listed, crashed, until it is destroyed."""
    h = sim_host
    h.xl("create", HVM)
    release = h.watch("@releaseDomain")
    h.crash(1)  # xc_domain_shutdown(SHUTDOWN_crash) through the shim
    release.wait_for(2, what="@releaseDomain after the crash")
    info = h.domains()[1]
    assert info["shutdown"] == 1 and info["reason"] == 3
    assert h.xs_read("/local/domain/1/name") == "hvmconfig"
    h.run(BUILD / "xensim", "shutdown", h.dir, "1", "poweroff", check=True)
    assert h.domains()[1]["reason"] == 3  # the first shutdown reason sticks, as in Xen
    h.xl("destroy", "hvmconfig")
    release.wait_for(3, what="@releaseDomain after the destroy")
    assert 1 not in h.domains()


def test_destroy_through_libxenctrl_releases_the_domain(sim_host):
    h = sim_host
    h.xl("create", HVM)
    release = h.watch("@releaseDomain")
    h.run(BUILD / "xensim", "xc", h.dir, "destroy", "1", check=True)
    release.wait_for(2, what="@releaseDomain after xc_domain_destroy")
    assert 1 not in h.domains()


def test_getinfo_returns_domains_from_first(sim_host):
    h = sim_host
    for name in ("a", "b", "c"):
        h.xl("create", "-p", HVM, f'name="{name}"')
    h.xl("destroy", "b")
    r = h.run(BUILD / "xensim", "xc", h.dir, "getinfo", "2", "10", check=True)
    assert [ln.split()[0] for ln in r.stdout.splitlines()] == ["3"]
    r = h.run(BUILD / "xensim", "xc", h.dir, "getinfo", "0", "2", check=True)
    assert [ln.split()[0] for ln in r.stdout.splitlines()] == ["0", "1"]
    r = h.run(BUILD / "xensim", "xc", h.dir, "getinfo", "4", "1")
    assert r.returncode == 1 and "No such process" in r.stderr


def test_system_bus_is_private_and_system_like(sim_host):
    h = sim_host
    bus = h.env["DBUS_SYSTEM_BUS_ADDRESS"]

    def call(user, *args):
        return h.run("dbus-send", "--system", "--print-reply", *args, user=user)

    # Reachable by root and by an unprivileged user.
    for user in (None, "nobody"):
        r = call(user, "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                 "org.freedesktop.DBus.GetId")
        assert r.returncode == 0, r.stderr
    # Nobody may own names not granted by a policy file, as on the system bus.
    r = call("nobody", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
             "org.freedesktop.DBus.RequestName", "string:org.xen.Stubdom", "uint32:0")
    assert r.returncode != 0 and "AccessDenied" in r.stderr
    assert bus == f"unix:path={h.dir}/system_bus_socket"
    conf = (h.dir / "dbus" / "system.conf").read_text()
    assert "<type>system</type>" in conf
    assert f'<include ignore_missing="yes">{SOURCE_ROOT}/systemd-units/org.xen.Stubdom.conf' \
        in conf


def test_boot_images_stand_in_for_usr_lib_xen_boot(sim_host):
    for image in ("ioemu-stubdom.gz", "pv-grub-x86_32.gz", "pv-grub-x86_64.gz"):
        if not os.path.exists(f"/usr/lib/xen/boot/{image}"):
            assert (sim_host.dir / "boot" / image).exists()


def test_concurrent_creates_get_distinct_domids(sim_host):
    """Every process of the host shares the domain table under flock: a burst of xl
    commands never hands out a domid twice."""
    h = sim_host
    procs = [h.spawn("xl", "create", "-q", HVM, f'name="burst{i}"', "memory=32",
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for i in range(8)]
    for p in procs:
        assert wait_process(p, "a burst xl create") == 0, p.stderr.read()
    ids = [h.domid(f"burst{i}") for i in range(8)]
    assert sorted(ids) == list(range(1, 9))
    assert set(h.domains()) == set(range(0, 9))
    for i, domid in enumerate(ids):
        assert h.xs_read(f"/local/domain/{domid}/name") == f"burst{i}"
