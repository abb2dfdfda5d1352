"""A (re)started stubdomd picks up what runs and never doubles a stub domain (issue 3)."""

import collections
import os
from pathlib import Path

from simhost import cpu_ticks, sim_host, wait_for  # noqa: F401  (fixture)
from stubdomd import EXAMPLES, Stubdomd

HVM = str(EXAMPLES / "hvmconfig")
STUB = (EXAMPLES / "stubdom-hvmconfig").read_text()


def names_by_domid(host):
    return {d: host.xs_read(f"/local/domain/{d}/name") for d in host.domains()}


def assert_one_stub_each(host, guests):
    names = collections.Counter(names_by_domid(host).values())
    for g in guests:
        assert names[g] == 1, f"{g}: {names[g]} domains"
        assert names[f"{g}-dm"] == 1, f"{g}-dm: {names[f'{g}-dm']} stub domains"
    # No stub domain without its guest.
    for domid, info in host.domains().items():
        target = host.xs_read(f"/local/domain/{domid}/target")
        if target is not None:
            assert int(target) in host.domains(), f"stub {domid} outlived its guest {target}"
    stubs = [n for n in names if n and n.endswith("-dm")]
    assert sorted(stubs) == sorted(f"{g}-dm" for g in guests)


def test_guests_that_exist_before_stubdomd_starts_get_their_stub_domains(sim_host):
    d = Stubdomd(sim_host)
    names = [f"early{i}" for i in range(3)]
    for n in names:
        d.write_config_dir_file(f"stubdom-{n}", STUB)
        sim_host.xl("create", HVM, f'name="{n}"', "memory=32")
    with d:
        for n in names:
            d.wait_state(n, "running")
        assert_one_stub_each(sim_host, names)


def group_members(pgid: int) -> list[int]:
    """Live processes of the process group pgid."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if fields[0] != "Z" and int(fields[2]) == pgid:
                found.append(int(entry))
    return found


def test_sigkill_during_twenty_spawns_then_restart_leaves_exactly_one_stub_per_guest(sim_host):
    sim_host.set_setting("boot-delay-ms", 300)
    names = [f"g{i:02d}" for i in range(20)]
    d = Stubdomd(sim_host, settings={"max_parallel_spawns": 4})
    for n in names:
        d.write_config_dir_file(f"stubdom-{n}", STUB)
    d.start()
    for n in names:
        sim_host.xl("create", HVM, f'name="{n}"', "memory=32")
    # Kill it while spawns are in every stage: some created, some linked, some queued.
    wait_for(lambda: sum(1 for n in names_by_domid(sim_host).values() if n and n.endswith("-dm")) >= 4, what="a few stub domains to exist")
    killed = d.proc.pid  # the leader of its process group (SimHost.spawn)
    d.kill()
    d.start()
    for n in names:
        d.wait_state(n, "running")
    # Any xl the killed daemon had started finishes on its own: its result is part of
    # what is checked, so it is waited for (its CPU is progress).
    wait_for(lambda: not group_members(killed), what="the killed daemon's xl to finish",
             progress=lambda: [cpu_ticks(p) for p in group_members(killed)])
    assert_one_stub_each(sim_host, names)
    assert "adopted running stub domain" in d.log() or "destroying" in d.log()


def test_a_pv_guest_named_like_a_stub_domain_survives_a_daemon_restart(sim_host, tmp_path):
    """What a domain is comes from the hypervisor and dom0's nodes, never its name: PV
    guests named web-dm and db-dm, as the stub domains of web and db (which have stub
    configs but do not run) would be, are nobody's half-made stub domain — neither the
    running one nor the one the administrator paused."""
    d = Stubdomd(sim_host)
    kernel = tmp_path / "vmlinuz"
    kernel.write_bytes(b"\x7fELF")
    for name in ("web", "db", "app"):
        d.write_config_dir_file(f"stubdom-{name}", STUB)
    for name in ("web-dm", "db-dm"):
        cfg = tmp_path / f"{name}.cfg"
        cfg.write_text(f'name = "{name}"\ntype = "pv"\nkernel = "{kernel}"\nmemory = 32\n')
        sim_host.xl("create", str(cfg))
    sim_host.xl("pause", "db-dm")
    pv = {name: sim_host.domid(name) for name in ("web-dm", "db-dm")}
    with d:
        sim_host.xl("create", HVM, 'name="app"')
        d.wait_state("app", "running")
        d.restart()  # adoption runs before the daemon owns its bus name
        d.wait_state("app", "running")
        assert "left unlinked" not in d.log()
        assert {name: sim_host.domid(name) for name in pv} == pv
        guests = d.guests()
        assert "web-dm" not in guests and "db-dm" not in guests


def test_an_hvm_guest_named_like_a_stub_domain_is_a_guest(sim_host):
    """Any name xl accepts is a guest's: other-dm with a stub config gets its stub domain."""
    with Stubdomd(sim_host) as d:
        d.write_config_dir_file("stubdom-other-dm", STUB)
        sim_host.xl("create", HVM, 'name="other-dm"')
        d.wait_state("other-dm", "running")
        assert sim_host.domid("other-dm-dm") is not None
        assert "other-dm-dm" not in d.guests()
