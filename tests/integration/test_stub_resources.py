"""A stub domain's memory in use and vCPU time (issue 19, part 5), on the simulated host:
StubMemoryUsedKiB and StubCpuTimeNs are read from the hypervisor only while someone holds a
Guest.WatchResources descriptor, at most once a second, and sent with PropertiesChanged.

The sim's vCPU clock runs while a domain is unpaused (tests/xensim/core/domtable.h), so a
stub's StubCpuTimeNs is the time it ran: the readings themselves measure how far apart they
were, and the waits here wait on that clock's progress, never on a fixed time.
"""

import os

from simhost import sim_host, wait_for  # noqa: F401  (fixture)
from stubdomd import BUILD_ROOT, EXAMPLES, Stubdomd
from test_dbus_helpers import (GUEST, MANAGER_PATH, Monitor, changed_properties, connect,
                               dbus_error, proxy)

HVM = str(EXAMPLES / "hvmconfig")
PEER = "org.freedesktop.DBus.Peer"
RESOURCES = {"StubMemoryUsedKiB", "StubCpuTimeNs"}
SECOND = 1_000_000_000


def readings(monitor, path):
    """The PropertiesChanged of `path` that carry a reading, as {property: value}."""
    return [changed_properties(m) for m in monitor.signals("PropertiesChanged", path)
            if RESOURCES & set(changed_properties(m))]


def marker(monitor, conn):
    """A Ping the monitor has recorded: what the daemon sent before it is recorded too."""
    pings = lambda: sum(1 for m in monitor.snapshot() if m.get("member") == "Ping")  # noqa
    before = pings()
    proxy(conn, MANAGER_PATH, PEER).Ping()
    wait_for(lambda: pings() > before, what="the monitor to record the marker Ping",
             progress=lambda: len(monitor.snapshot()))


def stub_ran_for(host, stub, ns):
    """Waits until the stub's vCPU clock (the sim's, through xc_domain_getinfolist) has
    moved `ns` on."""
    cpu = lambda: host.domains()[stub]["cpu_ns"]  # noqa: E731
    until = cpu() + ns
    wait_for(lambda: cpu() >= until, what=f"the stub's vCPU time to pass {until}",
             progress=cpu)


def test_readings_move_while_someone_listens_at_most_once_a_second_and_never_without(
        sim_host):
    with Stubdomd(sim_host) as d:
        sim_host.xl("create", HVM)
        guest = d.wait_state("hvmconfig", "running")
        path, stub = guest["path"], sim_host.domid("hvmconfig-dm")
        conn = connect(sim_host)
        monitor = Monitor(sim_host)
        try:
            monitor.sync(conn)
            # Nobody listens: 2.5 s of the stub's life go by without a reading.
            stub_ran_for(sim_host, stub, 2.5 * SECOND)
            marker(monitor, conn)
            assert readings(monitor, path) == []
            assert d.prop(path, "StubCpuTimeNs") == 0

            fd = proxy(conn, path, GUEST).WatchResources().take()
            try:
                # The first reading comes with the reply.
                assert d.prop(path, "StubCpuTimeNs") >= 2.5 * SECOND
                assert d.prop(path, "StubMemoryUsedKiB") == \
                    sim_host.table()[stub]["mem_kib"]
                got = monitor.wait(lambda ms: len(readings(monitor, path)) >= 4,
                                   what="four readings")
                assert got
                times = [r["StubCpuTimeNs"] for r in readings(monitor, path)
                         if "StubCpuTimeNs" in r]
                assert len(times) >= 4 and times == sorted(times)
                # At most once a second: a second of the stub's own clock lies between two
                # readings (less the time a reading takes to be made, well under 10%).
                gaps = [b - a for a, b in zip(times, times[1:])]
                assert min(gaps) >= 0.9 * SECOND, gaps
                assert readings(monitor, path)[0]["StubMemoryUsedKiB"] == \
                    sim_host.table()[stub]["mem_kib"]
            finally:
                os.close(fd)
            # The listener left: at most the reading already on its way, then none while
            # the stub runs 2.5 s more.
            marker(monitor, conn)
            at_close = len(readings(monitor, path))
            stub_ran_for(sim_host, stub, 2.5 * SECOND)
            marker(monitor, conn)
            assert len(readings(monitor, path)) <= at_close + 1
            assert "Ping" in [m.get("member") for m in monitor.snapshot()]
        finally:
            monitor.stop()


def test_a_listener_of_a_stopped_stub_reads_zero_and_listeners_are_bounded(sim_host):
    with Stubdomd(sim_host) as d:
        sim_host.xl("create", HVM)
        guest = d.wait_state("hvmconfig", "running")
        path = guest["path"]
        conn = connect(sim_host)
        watch = proxy(conn, path, GUEST).WatchResources
        fds = [watch().take() for _ in range(16)]
        try:
            name, message = dbus_error(watch)
            assert name == "org.xen.Stubdom.Error.Busy", message
            assert "16 per guest" in message
            os.close(fds.pop())
            # The daemon hears of the close from the kernel; a new listener fits again.
            fds.append(wait_for(lambda: _try(watch), what="room for a listener again"))
            assert d.prop(path, "StubCpuTimeNs") > 0
            r = sim_host.run(BUILD_ROOT / "cli" / "stubdomctl", "stop", "hvmconfig")
            assert r.returncode == 0, r.stderr
            assert d.prop(path, "StubCpuTimeNs") == 0
            assert d.prop(path, "StubMemoryUsedKiB") == 0
        finally:
            for fd in fds:
                os.close(fd)


def _try(watch):
    try:
        return watch().take()
    except Exception:  # Busy until the daemon has seen the close
        return None


def test_stubdomctl_status_shows_what_the_stub_uses(sim_host):
    with Stubdomd(sim_host) as d:
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "running")
        stub = sim_host.domid("hvmconfig-dm")
        r = sim_host.run(BUILD_ROOT / "cli" / "stubdomctl", "status", "hvmconfig")
        assert r.returncode == 0, r.stderr
        mib = sim_host.table()[stub]["mem_kib"] // 1024
        words = " ".join(r.stdout.split())
        assert f"Stub memory: {mib} MiB" in words, r.stdout
        assert f"Stub uses: {mib} MiB, vCPU time " in words, r.stdout
