"""Debian's real xenstored, run under the hypervisor shim, driven by the stock
xenstore-* clients and by libxenstore (xs-probe)."""

import subprocess

from simhost import BUILD, SOURCE_ROOT, STALL_SECONDS, SimHost, sim_host, wait_for, wait_process  # noqa: F401

HVM = SOURCE_ROOT / "examples" / "hvmconfig"


def test_read_write_list_rm(sim_host):
    h = sim_host
    h.xs_write("/test/a/b", "hello")
    assert h.xs_read("/test/a/b") == "hello"
    # Writing a deep node makes its parents, as on any xenstored.
    assert h.xs_ls("/test") == ["a"]
    assert h.xs_ls("/test/a") == ["b"]
    h.xs_rm("/test/a")
    assert h.xs_read("/test/a/b") is None
    assert h.xs_ls("/test") == []
    r = h.run("xenstore-read", "/test/a/b")
    assert r.returncode != 0


def test_mkdir_makes_an_empty_directory(sim_host):
    h = sim_host
    h.run(BUILD / "xs-probe", "mkdir", "/test/dir", check=True)
    assert h.xs_read("/test/dir") == ""
    assert h.xs_ls("/test/dir") == []


def test_dom0_is_set_up_like_xen_init_dom0(sim_host):
    assert sim_host.xs_read("/local/domain/0/name") == "Domain-0"
    assert sim_host.xs_read("/local/domain/0/domid") == "0"
    assert sim_host.xs_read("/tool/xenstored") == ""


def test_permissions(sim_host):
    h = sim_host
    h.xs_write("/perm/node", "x")
    # New nodes inherit their parent's permissions; dom0 owns what it makes.
    assert h.xs_perms("/perm/node") == ["n0"]
    h.xs_chmod("/perm/node", "n0", "r5", "b7")
    assert h.xs_perms("/perm/node") == ["n0", "r5", "b7"]
    h.xs_write("/perm/node/child", "y")
    assert h.xs_perms("/perm/node/child") == ["n0", "r5", "b7"]


def test_transactions(sim_host):
    h = sim_host
    r = h.run(BUILD / "xs-probe", "transaction", "/tx/node", "committed")
    assert r.returncode == 0, r.stderr
    assert h.xs_read("/tx/node") == "committed"
    r = h.run(BUILD / "xs-probe", "conflict", "/tx/race")
    assert r.returncode == 0, r.stderr
    assert h.xs_read("/tx/race") == "overtaken"


def test_watches_with_the_stock_client(sim_host):
    h = sim_host
    w = h.watch("/watched")
    assert w.events == ["/watched"]  # the registration event
    h.xs_write("/watched/leaf", "1")
    w.wait_for(2)
    assert w.events[1] == "/watched/leaf"
    h.xs_write("/elsewhere", "1")
    h.xs_rm("/watched")
    w.wait_for(lambda ev: "/watched" in ev[2:], what="rm event")
    assert "/elsewhere" not in w.events


def test_introduce_and_release_domain_watches_stock_client(sim_host):
    h = sim_host
    intro = h.watch("@introduceDomain")
    release = h.watch("@releaseDomain")
    h.xl("create", HVM)
    intro.wait_for(2, what="@introduceDomain on xl create")
    assert release.count() == 1
    h.xl("destroy", "hvmconfig")
    release.wait_for(2, what="@releaseDomain on xl destroy")
    assert intro.count() == 2


def test_introduce_and_release_domain_watches_libxenstore(sim_host):
    h = sim_host
    probes = {}
    for special in ("@introduceDomain", "@releaseDomain"):
        p = h.spawn(BUILD / "xs-probe", "watch", special, "2", str(int(STALL_SECONDS * 1000)),
                    stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        probes[special] = p
    h.xl("create", HVM)
    h.xl("destroy", "hvmconfig")
    for special, p in probes.items():
        assert wait_process(p, f"{special} to fire twice") == 0, f"{special} did not fire"
        assert p.stdout.read().split() == [special, special]


def test_xl_create_introduces_and_destroy_releases(sim_host):
    h = sim_host

    def introduced(domid):
        return h.run(BUILD / "xs-probe", "introduced", str(domid), check=True).stdout.strip()

    assert introduced(1) == "no"
    h.xl("create", HVM)
    assert introduced(1) == "yes"
    h.xl("destroy", "1")
    assert introduced(1) == "no"


def test_probe_repeats_requests(tmp_path):
    # sim-scale divides xenstored's CPU by these requests: each must reach xenstored;
    # a bad kind is refused, a failed read fails.
    trace = tmp_path / "trace"
    with SimHost(trace=trace) as h:
        before = trace.read_text()
        h.run(BUILD / "xs-probe", "repeat", "write", "/bench/repeat", "7", check=True)
        h.run(BUILD / "xs-probe", "repeat", "read", "/bench/repeat", "5", check=True)
        r = h.run(BUILD / "xs-probe", "repeat", "rm", "/bench/repeat", "1")
        assert r.returncode == 2 and "usage" in r.stderr
        r = h.run(BUILD / "xs-probe", "repeat", "read", "/bench/absent", "1")
        assert r.returncode == 1 and "xs_read" in r.stderr
        after = trace.read_text()[len(before):]
        assert h.xs_read("/bench/repeat") == "6"
    assert after.count("WRITE (/bench/repeat ") == 7
    assert after.count("READ (/bench/repeat )") == 5


def test_trace_file_counts_requests(tmp_path):
    trace = tmp_path / "trace"
    with SimHost(trace=trace) as h:
        before = trace.read_text().count("\nIN ")
        for i in range(5):
            h.xs_write(f"/bench/{i}", "x")
        after = trace.read_text().count("\nIN ")
    assert after - before >= 5


def test_shim_answers_a_real_libxenctrl_client(sim_host):
    h = sim_host
    env = {"LD_PRELOAD": str(h.shim)}
    r = h.run(BUILD / "xc-probe", "version", env=env, check=True)
    assert r.stdout.startswith("4.17")
    r = h.run(BUILD / "xc-probe", "physinfo", env=env, check=True)
    assert "total_kib=4194304" in r.stdout
    # Without the shim the same binary finds no hypervisor.
    r = h.run(BUILD / "xc-probe", "list", env={"LD_PRELOAD": ""})
    assert r.returncode != 0


def test_unversioned_shim_symbols_satisfy_versioned_references(sim_host):
    """libxenctrl's symbols are versioned (VERS_4.17.0); the shim's are not, and the
    dynamic linker still binds the versioned references to the preloaded shim."""
    h = sim_host
    r = h.run(BUILD / "xc-probe", "version",
              env={"LD_PRELOAD": str(h.shim), "LD_DEBUG": "bindings"}, check=True)
    for symbol in ("xc_interface_open", "xc_version"):
        assert any(f"to {h.shim} [0]: normal symbol `{symbol}' [VERS_4.17.0]" in line
                   for line in r.stderr.splitlines()), symbol
