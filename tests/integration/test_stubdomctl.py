"""stubdomctl (and so libstubdom-client) against the real stubdomd on the simulated host:
every command's human and --json output, the monitor, and each error a person reads."""

import json
import os
import signal
import subprocess

import pytest

from simhost import sim_host, wait_for, wait_process  # noqa: F401  (fixture)
from stubdomd import BUILD_ROOT, EXAMPLES, STUBDOMD, Stubdomd

STUBDOMCTL = BUILD_ROOT / "cli" / "stubdomctl"
HVM = str(EXAMPLES / "hvmconfig")
NOT_RUNNING = ("stubdomctl: stubdomd is not running "
               "(org.xen.Stubdom is not on the system bus)\n")

pytestmark = pytest.mark.skipif(not STUBDOMD.exists() or not STUBDOMCTL.exists(),
                                reason=f"needs {STUBDOMD} and {STUBDOMCTL}")


def ctl(host, *args, user=None):
    return host.run(STUBDOMCTL, *args, user=user)


@pytest.fixture
def running(sim_host):
    """stubdomd with the README's guest running in its stub domain."""
    with Stubdomd(sim_host) as daemon:
        sim_host.xl("create", HVM)
        daemon.wait_state("hvmconfig", "running")
        yield daemon


def test_list_and_status(sim_host, running):
    g, s = sim_host.domid("hvmconfig"), sim_host.domid("hvmconfig-dm")
    result = ctl(sim_host, "list")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert header.split() == ["NAME", "DOMID", "STUBDOM", "STATE", "UUID"]
    assert row.split()[:4] == ["hvmconfig", str(g), str(s), "running"]

    guests = json.loads(ctl(sim_host, "list", "--json").stdout)
    assert len(guests) == 1
    guest = guests[0]
    assert (guest["name"], guest["domid"], guest["stub_domid"], guest["state"],
            guest["flavour"]) == ("hvmconfig", g, s, "running", "ioemu")
    assert guest["object_path"] == running.guests()["hvmconfig"]["path"]

    # status holds a WatchResources listener while it reads the guest, so it also has what
    # the stub uses now (read from the hypervisor); list shows those two properties as they
    # are, not read for it. Everything else is the same guest.
    sampled = ("stub_memory_used_kib", "stub_cpu_time_ns")
    listed = {k: v for k, v in guest.items() if k not in sampled}
    for reference in ("hvmconfig", guest["uuid"], str(g), str(s)):
        status = json.loads(ctl(sim_host, "status", reference, "--json").stdout)
        uses = {k: status.pop(k) for k in sampled}
        assert status == listed, reference
        assert uses["stub_memory_used_kib"] == sim_host.table()[s]["mem_kib"], uses
        assert uses["stub_cpu_time_ns"] > 0, uses
    human = ctl(sim_host, "status", "hvmconfig").stdout
    assert f"Stub domain:  {s}" in human and "State:        running" in human


def test_stop_start_restart(sim_host, running):
    result = ctl(sim_host, "stop", "hvmconfig")
    assert (result.returncode, result.stdout) == (0, "hvmconfig: stopped\n"), result.stderr
    assert sim_host.domid("hvmconfig-dm") is None

    result = ctl(sim_host, "start", "hvmconfig", "--json")
    assert result.returncode == 0, result.stderr
    started = json.loads(result.stdout)
    assert started["state"] == "running"  # Start replies only once the stub domain runs
    assert started["stub_domid"] == sim_host.domid("hvmconfig-dm")

    result = ctl(sim_host, "start", "hvmconfig")
    assert result.returncode == 1
    assert result.stderr.startswith("stubdomctl: cannot start 'hvmconfig': ")
    assert result.stderr.endswith("(InvalidState)\n")

    result = ctl(sim_host, "restart", "hvmconfig", "--json")
    assert result.returncode == 0, result.stderr
    restarted = json.loads(result.stdout)
    assert restarted["state"] == "running"
    assert restarted["stub_domid"] not in (0, started["stub_domid"])


def test_attach_of_a_managed_guest_is_not_a_second_stub_domain(sim_host, running):
    g, s = sim_host.domid("hvmconfig"), sim_host.domid("hvmconfig-dm")
    result = ctl(sim_host, "attach", str(g), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["stub_domid"] == s
    assert sim_host.domid("hvmconfig-dm") == s


def test_unknown_guest(sim_host, running):
    for args in (["status", "x"], ["start", "x"], ["stop", "x"], ["restart", "x"]):
        result = ctl(sim_host, *args)
        assert (result.returncode, result.stderr) == (1, "stubdomctl: no guest named 'x'\n")
    result = ctl(sim_host, "status", "4000")
    assert (result.returncode, result.stderr) == (1, "stubdomctl: no guest with domid 4000\n")


def test_daemon_not_running(sim_host):
    for args in (["list"], ["status", "hvmconfig"], ["start", "hvmconfig"], ["helpers"],
                 ["attach", "1"]):
        result = ctl(sim_host, *args)
        assert (result.returncode, result.stderr) == (1, NOT_RUNNING), args


def test_nobody_reads_but_may_not_change(sim_host, running):
    assert ctl(sim_host, "list", user="nobody").returncode == 0
    assert ctl(sim_host, "status", "hvmconfig", user="nobody").returncode == 0
    assert ctl(sim_host, "helpers", user="nobody").returncode == 0
    g = sim_host.domid("hvmconfig")
    for args in (["stop", "hvmconfig"], ["start", "hvmconfig"], ["restart", "hvmconfig"],
                 ["attach", str(g)], ["reload"]):
        result = ctl(sim_host, *args, user="nobody")
        assert result.returncode == 1, args
        assert result.stderr.startswith("stubdomctl: permission denied: "), result.stderr
    assert running.guests()["hvmconfig"]["state"] == "running"


def test_helpers(sim_host, running):
    result = ctl(sim_host, "helpers", "--json")
    assert result.returncode == 0, result.stderr
    for helper in json.loads(result.stdout):
        assert set(helper) == {"name", "state", "main_pid", "restarts", "last_exit",
                               "object_path"}
    assert ctl(sim_host, "helpers").stdout.split()[:5] == ["NAME", "STATE", "PID", "RESTARTS",
                                                           "LAST"]
    result = ctl(sim_host, "helper", "stop", "no-such-helper")
    assert (result.returncode, result.stderr) == (
        1, "stubdomctl: no helper named 'no-such-helper'\n")


def wait_output(stream, text):
    """Waits until the pipe `stream` has carried `text`, without ever blocking on it."""
    os.set_blocking(stream.fileno(), False)
    seen = b""

    def more():
        nonlocal seen
        try:
            seen += os.read(stream.fileno(), 65536)
        except BlockingIOError:
            pass
        return text in seen

    wait_for(more, what=f"{text!r} (have {seen!r})", progress=lambda: seen)


def read_events(process, until):
    """JSON lines from `stubdomctl monitor --json` until `until(events)` holds."""
    events = []
    fd = process.stdout.fileno()
    os.set_blocking(fd, False)
    buffer = b""

    def more():
        nonlocal buffer
        try:
            buffer += os.read(fd, 65536)
        except BlockingIOError:
            pass
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            events.append(json.loads(line))
        return until(events)

    wait_for(more, what=f"monitor events (have {events})",
             progress=lambda: (len(events), buffer))
    return events


def test_monitor_sees_the_lifecycle(sim_host):
    with Stubdomd(sim_host) as daemon:
        monitor = sim_host.spawn(STUBDOMCTL, "monitor", "--json", stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        wait_output(monitor.stderr, b"stubdomctl: monitoring")
        sim_host.xl("create", HVM)
        events = read_events(monitor, lambda es: any(
            e["event"] == "changed" and e["guest"]["state"] == "running" for e in es))
        assert events[0]["event"] == "added" and events[0]["guest"]["name"] == "hvmconfig"
        states = [events[0]["guest"]["state"]] + [e["changed"]["state"] for e in events[1:]
                                                  if "state" in e.get("changed", {})]
        assert states[-1] == "running"
        assert states == sorted(set(states), key=states.index)  # no state twice in a row

        sim_host.xl("destroy", "hvmconfig")
        events = read_events(monitor, lambda es: any(e["event"] == "removed" for e in es))
        assert events[-1]["guest"]["name"] == "hvmconfig"

        monitor.send_signal(signal.SIGINT)
        assert wait_process(monitor, "stubdomctl monitor to exit") == 0
        daemon.stop()


def test_monitor_survives_a_daemon_restart(sim_host):
    with Stubdomd(sim_host) as daemon:
        sim_host.xl("create", HVM)
        daemon.wait_state("hvmconfig", "running")
        monitor = sim_host.spawn(STUBDOMCTL, "monitor", "--json", stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        wait_output(monitor.stderr, b"stubdomctl: monitoring 1 guest")
        daemon.restart()
        events = read_events(monitor, lambda es: any(
            e["event"] == "service-started" for e in es))
        # Give the resync its moment, then: the guest was neither lost nor doubled.
        assert ctl(sim_host, "list", "--json").returncode == 0
        monitor.send_signal(signal.SIGTERM)
        assert wait_process(monitor, "stubdomctl monitor to exit") == 0
        os.set_blocking(monitor.stdout.fileno(), True)
        rest = monitor.stdout.read().decode().splitlines()
        events += [json.loads(line) for line in rest if line]
        assert [e["event"] for e in events][:2] == ["service-stopped", "service-started"]
        assert not any(e["event"] in ("added", "removed") for e in events), events
