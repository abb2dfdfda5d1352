"""Guest.OpenConsole and `stubdomctl console` (issue 20): a PTY bridged by stubdomd to the
stub domain's console 0 — on the simulated host served by the sim's xenconsoled, where a
stub's console input reaches a simulated guest serial that echoes it (tests/xensim) — so a
line typed into the PTY round-trips; `stubdomctl console` does the same from a terminal and
leaves on ^]; a caller without the manage action is refused and gets no descriptor; no
descriptor is kept once clients close; bad names and options are refused naming them."""

import contextlib
import os
import pty
import select
import stat
import subprocess

import dbus
import pytest

from simhost import sim_host, wait_for  # noqa: F401  (fixture)
from stubdomd import BUILD_ROOT, EXAMPLES, STUBDOMD, Stubdomd
from test_dbus_helpers import GUEST, TIMEOUT, connect, dbus_error, gdbus_call, proxy, sv

HVM = str(EXAMPLES / "hvmconfig")
STUBDOMCTL = BUILD_ROOT / "cli" / "stubdomctl"
DENIED = "org.freedesktop.DBus.Error.AccessDenied"

pytestmark = pytest.mark.skipif(not STUBDOMD.exists(), reason=f"needs {STUBDOMD}")
needs_stubdomctl = pytest.mark.skipif(not STUBDOMCTL.exists(), reason=f"needs {STUBDOMCTL}")


@contextlib.contextmanager
def running_guest(host):
    d = Stubdomd(host)
    d.write_config_dir_file("stubdom-hvmconfig",
                            'kernel = "/usr/lib/xen/boot/ioemu-stubdom.gz"\n')
    with d:
        host.xl("create", HVM)
        yield d, d.wait_state("hvmconfig", "running")


def fd_count(d):
    return len(os.listdir(f"/proc/{d.proc.pid}/fd"))


def fd_targets(d):
    targets = []
    for fd in os.listdir(f"/proc/{d.proc.pid}/fd"):
        with contextlib.suppress(OSError):
            targets.append(os.readlink(f"/proc/{d.proc.pid}/fd/{fd}"))
    return targets


def open_console(host, path, name="serial0"):
    fd, slave = proxy(connect(host), path, GUEST).OpenConsole(name, sv(), timeout=TIMEOUT)
    return fd.take(), str(slave)


class Reader:
    """What arrives on a descriptor, gathered without blocking while a test waits."""

    def __init__(self, fd):
        self.fd, self.data, self.ended = fd, b"", False

    def poll(self):
        while not self.ended and select.select([self.fd], [], [], 0)[0]:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # EIO: a pty's other side is gone
                chunk = b""
            self.data += chunk
            self.ended = not chunk
        return len(self.data), self.ended

    def wait_for(self, text, host):
        return wait_for(lambda: self.poll() and text in self.data, what=f"{text!r} on the console",
                        progress=lambda: (self.poll(), host.activity()))


def test_a_line_round_trips_through_the_serial_console_pty(sim_host):
    with running_guest(sim_host) as (d, guest):
        baseline = fd_count(d)
        master, slave = open_console(sim_host, guest["path"])
        assert os.isatty(master) and slave.startswith("/dev/pts/")
        assert stat.S_ISCHR(os.stat(slave).st_mode)
        reader = Reader(master)
        os.write(master, b"hello through serial0\r")
        # The simulated guest echoes as a cooked tty would: CR as CR LF.
        reader.wait_for(b"hello through serial0\r\n", sim_host)
        # What the console printed is in the log as well (the bridge follows the log).
        log = sim_host.dir / "xenlog" / "qemu-dm-hvmconfig.log"
        wait_for(lambda: b"hello through serial0" in log.read_bytes(), what="the line in the log")
        os.close(master)
        wait_for(lambda: fd_count(d) == baseline, what="stubdomd's descriptors back to baseline",
                 progress=lambda: fd_count(d))


def test_the_stub_console_is_read_only_and_clients_that_leave_cost_nothing(sim_host):
    with running_guest(sim_host) as (d, guest):
        baseline = fd_count(d)
        watcher, _ = open_console(sim_host, guest["path"], "stub")
        others = [open_console(sim_host, guest["path"])[0] for _ in range(3)]
        # A fifth: the limit per guest.
        name, message = dbus_error(proxy(connect(sim_host), guest["path"], GUEST).OpenConsole,
                                   "serial0", sv())
        assert name == "org.xen.Stubdom.Error.Busy" and "4" in message, (name, message)
        reader = Reader(watcher)
        os.write(watcher, b"typed on the read-only console\r")
        os.write(others[0], b"typed on serial0\r")
        reader.wait_for(b"typed on serial0\r\n", sim_host)
        assert b"read-only" not in reader.data  # dropped, never reached the guest
        for fd in [watcher] + others:
            os.close(fd)
        wait_for(lambda: fd_count(d) == baseline, what="stubdomd's descriptors back to baseline",
                 progress=lambda: fd_count(d))


def test_stopping_the_stub_ends_the_console(sim_host):
    with running_guest(sim_host) as (d, guest):
        master, slave = open_console(sim_host, guest["path"])
        assert slave in fd_targets(d)
        reader = Reader(master)
        proxy(connect(sim_host), guest["path"], GUEST).Stop(sv(), timeout=TIMEOUT)
        wait_for(lambda: reader.poll()[1], what="EOF on the console once the stub is gone",
                 progress=lambda: reader.poll())
        # The bridge let go of its side of the PTY (the stub's own descriptors went too, so
        # the count before is no baseline here).
        wait_for(lambda: slave not in fd_targets(d), what="stubdomd to close the PTY's slave",
                 progress=lambda: fd_count(d))
        os.close(master)
        baseline = fd_count(d)
        # Stopped: no stub, no console; the error says so.
        name, message = dbus_error(proxy(connect(sim_host), guest["path"], GUEST).OpenConsole,
                                   "serial0", sv())
        assert name == "org.xen.Stubdom.Error.InvalidState", (name, message)
        assert "no stub domain" in message and "serial0" in message, message
        assert fd_count(d) == baseline


@needs_stubdomctl
def test_bad_names_and_options_and_nobody_are_refused_with_no_descriptor(sim_host):
    with running_guest(sim_host) as (d, guest):
        call = ("serial0", "@a{sv} {}")
        # One refused call first: whatever stubdomd keeps for asking polkit is no console's.
        gdbus_call(sim_host, guest["path"], GUEST + ".OpenConsole", *call, user="nobody")
        baseline = fd_count(d)
        console = proxy(connect(sim_host), guest["path"], GUEST).OpenConsole
        name, message = dbus_error(console, "serial1", sv())
        assert name == "org.freedesktop.DBus.Error.InvalidArgs", name
        assert "'serial1'" in message and "serial0" in message, message
        name, message = dbus_error(console, "serial0",
                                   sv({"raw": dbus.Boolean(True, variant_level=1)}))
        assert name == "org.freedesktop.DBus.Error.InvalidArgs" and "'raw'" in message, message
        # No polkit on the sim's bus: a caller other than root is refused (fail closed).
        r = gdbus_call(sim_host, guest["path"], GUEST + ".OpenConsole", *call, user="nobody")
        assert r.returncode != 0 and DENIED in r.stderr, r.stderr
        r = sim_host.run(STUBDOMCTL, "console", "hvmconfig", user="nobody")
        assert r.returncode != 0 and "permission denied" in r.stderr, r.stderr
        wait_for(lambda: fd_count(d) == baseline, what="no descriptor kept for refused calls",
                 progress=lambda: fd_count(d))


def run_console_in_a_pty(host, *args):
    """stubdomctl console on a pseudo-terminal of its own, as from a terminal emulator."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.update(host.env)
        os.execv(str(STUBDOMCTL), [str(STUBDOMCTL), "console", *args])
    return pid, fd


@needs_stubdomctl
def test_stubdomctl_console_round_trips_a_line_and_leaves_on_ctrl_bracket(sim_host):
    with running_guest(sim_host) as (d, guest):
        baseline = fd_count(d)
        pid, terminal = run_console_in_a_pty(sim_host, "hvmconfig")
        reader = Reader(terminal)
        reader.wait_for(b"^]", sim_host)  # its greeting says how to leave
        os.write(terminal, b"from stubdomctl\r")
        reader.wait_for(b"from stubdomctl\r\n", sim_host)
        os.write(terminal, b"\x1d")
        done = wait_for(lambda: [w for w in [os.waitpid(pid, os.WNOHANG)] if w[0]],
                        what="stubdomctl console to leave on ^]", progress=lambda: reader.poll())
        assert os.waitstatus_to_exitcode(done[0][1]) == 0, reader.data
        os.close(terminal)
        wait_for(lambda: fd_count(d) == baseline, what="stubdomctl's console closed in stubdomd",
                 progress=lambda: fd_count(d))


@needs_stubdomctl
def test_stubdomctl_console_without_a_tty_just_copies(sim_host):
    with running_guest(sim_host) as (d, guest):
        p = sim_host.spawn(STUBDOMCTL, "console", "hvmconfig", stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        reader = Reader(p.stdout.fileno())
        p.stdin.write(b"piped line\r")
        p.stdin.flush()
        reader.wait_for(b"piped line\r\n", sim_host)
        p.stdin.close()  # EOF on stdin ends it
        wait_for(lambda: p.poll() is not None, what="stubdomctl console to end on EOF",
                 progress=lambda: reader.poll())
        assert p.returncode == 0, p.stderr.read()
