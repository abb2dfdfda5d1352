"""Pause, Resume and host sleep (issue 21), against the real daemon on the simulated host
with python3-dbusmock's logind template on the sim's bus:

- Guest.Pause/Resume through busctl and stubdomctl: the guest is paused before its stub
  domain and resumed after it (the sim's log/pause.log records every pause and unpause in
  the order the domain table saw them), State shows `paused`; InvalidState for a guest
  that is not running / not paused; a caller that is not root is refused.
- Host sleep: the delay inhibitor is held from the start; PrepareForSleep(true) pauses
  every running guest with its stub domain and only then releases the inhibitor;
  PrepareForSleep(false) resumes exactly those, stubs first, and takes it again. A guest
  paused beforehand stays paused; a wake without a sleep does nothing; logind leaving and
  coming back is survived; without logind the daemon says so once and goes on.
"""

import subprocess
import sys

import dbus
import pytest

from simhost import SimHost, cpu_ticks, sim_host, wait_for, wait_process  # noqa: F401
from stubdomd import BUILD_ROOT, EXAMPLES, Stubdomd
from test_dbus_helpers import GUEST, connect, error_name_of, gdbus_call

HVM = str(EXAMPLES / "hvmconfig")
STUBDOMCTL = BUILD_ROOT / "cli" / "stubdomctl"
LOGIND = "org.freedesktop.login1"
LOGIND_PATH = "/org/freedesktop/login1"
LOGIND_MANAGER = "org.freedesktop.login1.Manager"
INHIBITOR = ("sleep", "stubdomd", "pausing stub domains with their guests", "delay")
INVALID_STATE = "org.xen.Stubdom.Error.InvalidState"
DENIED = "org.freedesktop.DBus.Error.AccessDenied"


class Logind:
    """python3-dbusmock's logind template on the sim's bus (root may own its name there)."""

    def __init__(self, host: SimHost):
        self.host = host
        self.conn = connect(host)
        self.proc = None

    def start(self) -> "Logind":
        self.proc = self.host.spawn(sys.executable, "-m", "dbusmock", "--system", "--template",
                                    "logind", stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        proc = self.proc
        wait_for(lambda: proc.poll() is not None or self.conn.name_has_owner(LOGIND),
                 what="dbusmock logind on the bus", progress=lambda: cpu_ticks(proc.pid))
        assert proc.poll() is None, "dbusmock logind exited"
        obj = self.conn.get_object(LOGIND, LOGIND_PATH)
        self.manager = dbus.Interface(obj, LOGIND_MANAGER)
        self.mock = dbus.Interface(obj, "org.freedesktop.DBus.Mock")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            wait_process(self.proc, "the logind mock to exit")
        wait_for(lambda: not self.conn.name_has_owner(LOGIND), what="logind to leave the bus")

    def inhibitors(self):
        return [tuple(str(x) for x in row[:4]) for row in self.manager.ListInhibitors()]

    def prepare_for_sleep(self, sleeping: bool):
        self.mock.EmitSignal(LOGIND_MANAGER, "PrepareForSleep", "b", [dbus.Boolean(sleeping)])


def pause_log(host) -> list[str]:
    path = host.dir / "log" / "pause.log"
    return path.read_text().splitlines() if path.exists() else []


def paused(host, domid) -> bool:
    return host.domains()[domid]["paused"] == 1


def ctl(host, *args, user=None):
    return host.run(STUBDOMCTL, *args, user=user)


def call(host, guest, method, user=None):
    return gdbus_call(host, guest["path"], GUEST + "." + method, user=user)


@pytest.fixture
def logind(sim_host):
    mock = Logind(sim_host).start()
    yield mock
    mock.stop()


def start_guests(host, d, *names):
    """The README's guest under each name (its stub config copied), all running."""
    stub_config = (EXAMPLES / "stubdom-hvmconfig").read_text()
    for name in names:
        if name != "hvmconfig":
            d.write_config_dir_file("stubdom-" + name, stub_config)
            host.xl("create", HVM, f'name="{name}"')
        else:
            host.xl("create", HVM)
    return {name: d.wait_state(name, "running") for name in names}


def test_sleep_pauses_guests_with_their_stubs_then_resumes_them_stubs_first(sim_host, logind):
    with Stubdomd(sim_host) as d:
        guests = start_guests(sim_host, d, "hvmconfig", "second")
        wait_for(lambda: logind.inhibitors() == [INHIBITOR], what="stubdomd's delay inhibitor",
                 progress=lambda: d.log())
        doms = {n: (g["domid"], g["stub_domid"]) for n, g in guests.items()}
        before = len(pause_log(sim_host))

        logind.prepare_for_sleep(True)
        wait_for(lambda: all(d.guests()[n]["state"] == "paused" for n in doms)
                 and logind.inhibitors() == [],
                 what="both guests paused and the inhibitor released", progress=lambda: d.log())
        for name, (g, s) in doms.items():
            assert paused(sim_host, g) and paused(sim_host, s), name
            assert d.prop(guests[name]["path"], "StateReason") == "paused while the host sleeps"
        lines = pause_log(sim_host)[before:]
        assert sorted(lines) == sorted(f"pause {x}" for pair in doms.values() for x in pair)
        for g, s in doms.values():
            assert lines.index(f"pause {g}") < lines.index(f"pause {s}"), lines

        before = len(pause_log(sim_host))
        logind.prepare_for_sleep(False)
        wait_for(lambda: all(d.guests()[n]["state"] == "running" for n in doms)
                 and logind.inhibitors() == [INHIBITOR],
                 what="both guests resumed and the inhibitor taken again",
                 progress=lambda: d.log())
        lines = pause_log(sim_host)[before:]
        for g, s in doms.values():
            assert not paused(sim_host, g) and not paused(sim_host, s)
            assert lines.index(f"unpause {s}") < lines.index(f"unpause {g}"), lines
        assert len(lines) == 4, lines
        assert "host woke: resumed 2 guests" in d.log()


def test_a_guest_paused_before_the_sleep_stays_paused(sim_host, logind):
    with Stubdomd(sim_host) as d:
        guests = start_guests(sim_host, d, "hvmconfig", "second")
        wait_for(lambda: logind.inhibitors() == [INHIBITOR], what="stubdomd's delay inhibitor",
                 progress=lambda: d.log())
        admin = guests["hvmconfig"]
        r = ctl(sim_host, "pause", "hvmconfig")
        assert (r.returncode, r.stdout) == (
            0, f"hvmconfig: paused (stub domain {admin['stub_domid']})\n"), r.stderr
        before = len(pause_log(sim_host))

        logind.prepare_for_sleep(True)
        wait_for(lambda: d.guests()["second"]["state"] == "paused" and logind.inhibitors() == [],
                 what="the other guest paused for the sleep", progress=lambda: d.log())
        logind.prepare_for_sleep(False)
        wait_for(lambda: d.guests()["second"]["state"] == "running"
                 and logind.inhibitors() == [INHIBITOR],
                 what="the other guest resumed", progress=lambda: d.log())
        assert d.guests()["hvmconfig"]["state"] == "paused"
        assert d.prop(admin["path"], "StateReason") == "paused on request"
        assert paused(sim_host, admin["domid"]) and paused(sim_host, admin["stub_domid"])
        lines = pause_log(sim_host)[before:]
        second = guests["second"]
        assert sorted(lines) == sorted([f"pause {second['domid']}", f"pause {second['stub_domid']}",
                                        f"unpause {second['stub_domid']}",
                                        f"unpause {second['domid']}"]), lines


def test_a_wake_without_a_sleep_does_nothing(sim_host, logind):
    with Stubdomd(sim_host) as d:
        guest = start_guests(sim_host, d, "hvmconfig")["hvmconfig"]
        wait_for(lambda: logind.inhibitors() == [INHIBITOR], what="stubdomd's delay inhibitor",
                 progress=lambda: d.log())
        before = len(pause_log(sim_host))
        logind.prepare_for_sleep(False)
        wait_for(lambda: "host woke without a sleep announced" in d.log(),
                 what="the stray wake noted", progress=lambda: d.log())
        assert pause_log(sim_host)[before:] == []
        assert d.guests()["hvmconfig"]["state"] == "running"
        assert logind.inhibitors() == [INHIBITOR]
        assert not paused(sim_host, guest["domid"])


def test_logind_going_away_and_coming_back_is_survived(sim_host):
    with Stubdomd(sim_host) as d:
        start_guests(sim_host, d, "hvmconfig")
        wait_for(lambda: "logind is not on the bus" in d.log(), what="no logind noted",
                 progress=lambda: d.log())
        mock = Logind(sim_host).start()
        try:
            wait_for(lambda: mock.inhibitors() == [INHIBITOR],
                     what="the inhibitor taken when logind came", progress=lambda: d.log())
            mock.stop()
            wait_for(lambda: "logind left the bus" in d.log(), what="logind's leaving noted",
                     progress=lambda: d.log())
            mock = Logind(sim_host).start()
            wait_for(lambda: mock.inhibitors() == [INHIBITOR],
                     what="the inhibitor taken again", progress=lambda: d.log())
            mock.prepare_for_sleep(True)
            wait_for(lambda: d.guests()["hvmconfig"]["state"] == "paused",
                     what="the sleep seen from the new logind", progress=lambda: d.log())
            mock.prepare_for_sleep(False)
            d.wait_state("hvmconfig", "running")
        finally:
            mock.stop()
        assert d.log().count("logind is not on the bus") == 1
        assert d.proc.poll() is None


def test_logind_starting_again_during_a_sleep_ends_it(sim_host):
    """The PrepareForSleep(false) of a logind that left mid-sleep never comes; the logind
    that starts next is in no sleep, so the guests paused for it are resumed."""
    with Stubdomd(sim_host) as d:
        start_guests(sim_host, d, "hvmconfig")
        mock = Logind(sim_host).start()
        try:
            wait_for(lambda: mock.inhibitors() == [INHIBITOR],
                     what="the inhibitor taken", progress=lambda: d.log())
            mock.prepare_for_sleep(True)
            wait_for(lambda: d.guests()["hvmconfig"]["state"] == "paused",
                     what="the guest paused for the sleep", progress=lambda: d.log())
            mock.stop()
            mock = Logind(sim_host).start()
            d.wait_state("hvmconfig", "running")
            wait_for(lambda: mock.inhibitors() == [INHIBITOR],
                     what="the inhibitor taken from the new logind", progress=lambda: d.log())
        finally:
            mock.stop()
        assert "logind started again during a host sleep" in d.log()
        guest, stub = sim_host.domid("hvmconfig"), sim_host.domid("hvmconfig-dm")
        assert not paused(sim_host, guest) and not paused(sim_host, stub)


def test_pause_on_host_sleep_off_takes_no_inhibitor(sim_host, logind):
    with Stubdomd(sim_host, settings={"pause_on_host_sleep": False}) as d:
        start_guests(sim_host, d, "hvmconfig")
        assert "pause_on_host_sleep is off" in d.log()
        logind.prepare_for_sleep(True)
        # The signal reaches the bus before the next call does: ListInhibitors answering
        # after it and the daemon answering ListGuests after that is the order to rely on.
        assert logind.inhibitors() == []
        assert d.guests()["hvmconfig"]["state"] == "running"


def test_pause_and_resume_through_busctl_and_stubdomctl(sim_host):
    with Stubdomd(sim_host) as d:
        guest = start_guests(sim_host, d, "hvmconfig")["hvmconfig"]
        g, s = guest["domid"], guest["stub_domid"]
        before = len(pause_log(sim_host))
        r = d.busctl("call", "org.xen.Stubdom", guest["path"], GUEST, "Pause")
        assert r.returncode == 0, r.stderr
        assert d.guests()["hvmconfig"]["state"] == "paused"
        assert pause_log(sim_host)[before:] == [f"pause {g}", f"pause {s}"]
        assert paused(sim_host, g) and paused(sim_host, s)

        # Paused: a second Pause, Stop and Restart are refused with why.
        r = call(sim_host, guest, "Pause")
        assert error_name_of(r) == INVALID_STATE and "already paused" in r.stderr, r.stderr
        r = gdbus_call(sim_host, guest["path"], GUEST + ".Stop", "@a{sv} {}")
        assert error_name_of(r) == INVALID_STATE, r.stderr
        assert "is paused; resume it before stopping its stub domain" in r.stderr
        r = ctl(sim_host, "list")
        assert r.stdout.splitlines()[1].split()[:4] == ["hvmconfig", str(g), str(s), "paused"]
        assert "State:        paused" in ctl(sim_host, "status", "hvmconfig").stdout

        before = len(pause_log(sim_host))
        r = ctl(sim_host, "resume", "hvmconfig")
        assert (r.returncode, r.stdout) == (0, f"hvmconfig: running (stub domain {s})\n"), r.stderr
        assert pause_log(sim_host)[before:] == [f"unpause {s}", f"unpause {g}"]
        assert not paused(sim_host, g) and not paused(sim_host, s)

        r = ctl(sim_host, "resume", "hvmconfig")
        assert r.returncode != 0
        assert "guest hvmconfig is not paused (it is running)" in r.stderr, r.stderr
        r = ctl(sim_host, "pause", "no-such-guest")
        assert r.returncode != 0 and "no guest named 'no-such-guest'" in r.stderr, r.stderr

        # Not running: Stop first, then Pause is InvalidState.
        assert ctl(sim_host, "stop", "hvmconfig").returncode == 0
        r = call(sim_host, guest, "Pause")
        assert error_name_of(r) == INVALID_STATE, r.stderr
        assert "guest hvmconfig is not running (it is stopped)" in r.stderr


def test_a_restarted_stubdomd_finds_a_paused_guest_paused_and_resumes_it(sim_host):
    """What the hypervisor says, not a memory of the previous run: a guest paused with its
    stub domain is adopted as paused, and Resume unpauses the stub, then the guest. A
    guest paused alone (`xl pause`) stays running to stubdomd, as before."""
    with Stubdomd(sim_host) as d:
        guest = start_guests(sim_host, d, "hvmconfig", "second")["hvmconfig"]
        assert ctl(sim_host, "pause", "hvmconfig").returncode == 0
        sim_host.xl("pause", "second")
    g, s = guest["domid"], guest["stub_domid"]
    d = Stubdomd(sim_host)
    d.write_config_dir_file("stubdom-second", (EXAMPLES / "stubdom-hvmconfig").read_text())
    with d:
        again = d.wait_state("hvmconfig", "paused")
        assert (again["domid"], again["stub_domid"]) == (g, s)
        assert d.wait_state("second", "running")
        before = len(pause_log(sim_host))
        r = ctl(sim_host, "resume", "hvmconfig")
        assert r.returncode == 0, r.stderr
        assert pause_log(sim_host)[before:] == [f"unpause {s}", f"unpause {g}"]
        assert d.guests()["hvmconfig"]["state"] == "running"
        assert not paused(sim_host, g) and not paused(sim_host, s)
        assert "adopted paused stub domain (the guest is paused too)" in d.log()


def test_a_caller_that_is_not_root_is_refused(sim_host):
    with Stubdomd(sim_host) as d:
        guest = start_guests(sim_host, d, "hvmconfig")["hvmconfig"]
        before = len(pause_log(sim_host))
        for method in ("Pause", "Resume"):
            r = call(sim_host, guest, method, user="nobody")
            assert error_name_of(r) == DENIED, f"{method}: {r.stderr}"
        r = ctl(sim_host, "pause", "hvmconfig", user="nobody")
        assert r.returncode != 0 and "not authorized" in r.stderr, r.stderr
        assert pause_log(sim_host)[before:] == []
        assert d.guests()["hvmconfig"]["state"] == "running"


def test_a_guest_destroyed_while_paused_takes_its_stub_domain_with_it(sim_host):
    with Stubdomd(sim_host) as d:
        guest = start_guests(sim_host, d, "hvmconfig")["hvmconfig"]
        assert ctl(sim_host, "pause", "hvmconfig").returncode == 0
        sim_host.xl("destroy", "hvmconfig")
        wait_for(lambda: "hvmconfig" not in d.guests()
                 and guest["stub_domid"] not in sim_host.domains(),
                 what="the guest and its stub domain gone", progress=lambda: d.log())
        assert sim_host.domid("hvmconfig-dm") is None
