"""Each fault switch of the simulated host, for all domains and for one by name."""

from simhost import BUILD, SOURCE_ROOT, sim_host, wait_for  # noqa: F401

HVM = SOURCE_ROOT / "examples" / "hvmconfig"
STUB = SOURCE_ROOT / "examples" / "stubdom-hvmconfig"


def boot_stub(h, guest_name="hvmconfig", stub_name=None):
    """A guest and its linked stub domain, unpaused; returns (guest, stub)."""
    stub_name = stub_name or f"{guest_name}-dm"
    h.xl("create", "-p", HVM, f'name="{guest_name}"')
    g = h.domid(guest_name)
    h.xl("create", "-p", STUB, f'name="{stub_name}"', f'extra="-d {g}"')
    s = h.domid(stub_name)
    h.run(BUILD / "xensim", "set-target", h.dir, s, g, check=True)
    dm = f"/local/domain/{s}/device-model/{g}"
    h.run(BUILD / "xs-probe", "mkdir", dm, check=True)
    h.xs_chmod(dm, f"n{s}", f"r{g}")
    h.xl("unpause", str(s))
    return g, s


def test_xl_create_fail_for_every_domain(sim_host):
    h = sim_host
    h.set_fault("xl-create-fail")
    r = h.xl("create", HVM, check=False)
    assert r.returncode == 3
    assert "cannot make domain hvmconfig: creation refused (xensim fault xl-create-fail)" \
        in r.stderr
    assert h.domid("hvmconfig") is None
    assert set(h.domains()) == {0}
    h.clear_fault("xl-create-fail")
    h.xl("create", HVM)


def test_xl_create_fail_with_message_for_one_domain(sim_host):
    h = sim_host
    h.set_fault("xl-create-fail", "out of grant frames", domain="hvm3")
    r = h.xl("create", HVM, 'name="hvm3"', check=False)
    assert r.returncode == 3
    assert "cannot make domain hvm3: out of grant frames" in r.stderr
    h.xl("create", HVM, 'name="hvm4"')
    assert h.domid("hvm4") is not None


def test_stubdom_never_running(sim_host):
    h = sim_host
    h.set_setting("boot-delay-ms", 0)
    h.set_fault("stubdom-never-running", domain="slow-dm")
    g, s = boot_stub(h, "slow", "slow-dm")
    g2, s2 = boot_stub(h, "fast", "fast-dm")
    wait_for(lambda: h.xs_read(f"/local/domain/{s2}/device-model/{g2}/state") == "running")
    log = h.dir / "log" / f"dom-{s}.log"
    wait_for(lambda: log.exists() and "stubdom-never-running" in log.read_text())
    assert h.xs_read(f"/local/domain/{s}/device-model/{g}/state") is None
    assert h.domains()[s]["paused"] == 0


def test_stubdom_crashes_after_n_ms(sim_host):
    h = sim_host
    h.set_setting("boot-delay-ms", 20)
    h.set_fault("stubdom-crash-ms", "300")
    release = h.watch("@releaseDomain")
    g, s = boot_stub(h)
    state = f"/local/domain/{s}/device-model/{g}/state"
    wait_for(lambda: h.xs_read(state) == "running", what="running before the crash")
    release.wait_for(2, what="@releaseDomain from the crash (VIRQ_DOM_EXC)")
    info = h.domains()[s]
    assert info["shutdown"] == 1 and info["reason"] == 3  # SHUTDOWN_crash
    assert info["dying"] == 0
    line = [ln for ln in h.xl("list").stdout.splitlines() if ln.startswith("hvmconfig-dm")][0]
    assert line.split()[4] == "---sc-"
    # The guest is untouched, and the crashed stub stays listed until destroyed.
    assert h.domains()[g]["shutdown"] == 0
    h.xl("destroy", str(s))
    release.wait_for(3, what="@releaseDomain from the destroy")
    assert s not in h.domains()


def test_stubdom_crash_before_boot_never_runs(sim_host):
    h = sim_host
    h.set_setting("boot-delay-ms", 500)
    h.set_fault("stubdom-crash-ms", "0", domain="hvmconfig-dm")
    g, s = boot_stub(h)
    wait_for(lambda: h.domains()[s]["shutdown"] == 1, what="the crash")
    assert h.xs_read(f"/local/domain/{s}/device-model/{g}/state") is None


def test_free_memory(sim_host):
    h = sim_host
    env = {"LD_PRELOAD": str(h.shim)}

    def physinfo():
        out = h.run(BUILD / "xc-probe", "physinfo", env=env, check=True).stdout.split()
        return {k: int(v) for k, v in (f.split("=") for f in out)}

    # Total minus dom0 minus the guest (256 MiB + 8 MiB video).
    h.xl("create", HVM)
    assert physinfo()["free_kib"] == 4 * 1024 * 1024 - 1024 * 1024 - 264 * 1024
    h.set_fault("free-memory-kib", "20480")
    assert physinfo()["free_kib"] == 20480
    assert physinfo()["total_kib"] == 4 * 1024 * 1024
    r = h.xl("create", STUB, 'name="big-dm"', check=False)  # 32 MiB > 20 MiB
    assert r.returncode == 3
    assert "failed to free memory for the domain" in r.stderr
    h.clear_fault()
    h.xl("create", STUB, 'name="big-dm"')


def test_host_memory_runs_out_without_a_fault(tmp_path):
    from simhost import SimHost
    with SimHost(total_mem_kib=1024 * 1024 + 300 * 1024) as h:
        h.xl("create", HVM)
        r = h.xl("create", HVM, 'name="second"', check=False)
        assert r.returncode == 3
        assert "needs 270336 KiB" in r.stderr


def test_unknown_fault_name_is_refused(sim_host):
    r = sim_host.run(BUILD / "xensim", "fault", sim_host.dir, "no-such-fault")
    assert r.returncode == 1
    assert "unknown name 'no-such-fault'" in r.stderr
