"""examples/vm-manager (issue 20), the example VM manager on libstubdom-client, on the
simulated host: its guest list (filled by Client::watch, then by the daemon's signals
alone) shows the guests with their states, stub domids and stub memory; a Stop made
through it is seen as the row going from running to stopped; and its display window
(gtk-vnc's VncDisplay widget, run on Xvfb) completes the VNC handshake through the socket
OpenDisplay hands over and shows the server's screen pixel for pixel. A non-root caller's
refusal is the OpenDisplay tests' business (test_display_open, test_display_screenshot),
not repeated here."""

import os
import shutil
import subprocess

import pytest

from simhost import sim_host, wait_for, wait_process  # noqa: F401  (fixture)
from stubdomd import BUILD_ROOT, STUBDOMD
from test_dbus_helpers import GUEST, TIMEOUT, connect, proxy, sv
from test_display_open import running_guest
from test_display_screenshot import read_png_rgb, server_screendump

VM_MANAGER = BUILD_ROOT / "examples" / "vm-manager" / "vm-manager"
XVFB_RUN = shutil.which("xvfb-run")

pytestmark = pytest.mark.skipif(not STUBDOMD.exists() or not VM_MANAGER.exists(),
                                reason=f"needs {STUBDOMD} and {VM_MANAGER} (built when "
                                       "gtk-vnc-2.0 is found: scripts/install-deps)")

# GTK without a session bus: no accessibility bridge to look for.
GTK_ENV = {"NO_AT_BRIDGE": "1", "GDK_BACKEND": "x11"}


def row(host, name, state):
    """The line the example prints for a guest, from what the hypervisor says: the stub
    domain's domid (`xl domid`) and its memory in the sim's domain table. For a stopped
    guest, the line's start (the memory is then the next stub's, which only stubdomd knows)."""
    stub = host.domid(f"{name}-dm")
    if state == "stopped":
        assert stub is None
        return f"{name} state=stopped stub-domid=-"
    mib = host.table()[stub]["mem_kib"] // 1024
    return f"{name} state={state} stub-domid={stub} stub-memory={mib}MiB display=vnc-dom0"


class Lines:
    """The lines a running example prints, read without blocking while waiting."""

    def __init__(self, process):
        self.process = process
        self.lines = []
        self._buffer = b""
        os.set_blocking(process.stdout.fileno(), False)

    def _more(self):
        try:
            self._buffer += os.read(self.process.stdout.fileno(), 65536) or b""
        except BlockingIOError:
            pass
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            self.lines.append(line.decode())

    def wait(self, predicate, what):
        def ready():
            self._more()
            return predicate(self.lines)

        # Progress: a new line, or CPU used by the host (stubdomd stopping the stub).
        wait_for(ready, what=f"{what} (have {self.lines})", progress=lambda: len(self.lines))
        return self.lines

    def send(self, command):
        self.process.stdin.write(command.encode() + b"\n")
        self.process.stdin.flush()


def test_list_once_shows_the_guests_with_their_states(sim_host):
    # Before stubdomd runs: said so, not an empty list taken for "no guests".
    r = sim_host.run(VM_MANAGER, "--list-once")
    assert (r.returncode, r.stdout, r.stderr) == (1, "", "vm-manager: stubdomd is not running\n")

    with running_guest(sim_host) as (daemon, guest):
        r = sim_host.run(VM_MANAGER, "--list-once")
        assert r.returncode == 0, r.stderr
        assert r.stdout == row(sim_host, "hvmconfig", "running") + "\n"

        proxy(connect(sim_host), guest["path"], GUEST).Stop(sv(), timeout=TIMEOUT)
        daemon.wait_state("hvmconfig", "stopped")
        r = sim_host.run(VM_MANAGER, "--list-once")
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith(row(sim_host, "hvmconfig", "stopped") + " "), r.stdout
        assert r.stdout.count("\n") == 1, r.stdout


@pytest.mark.skipif(XVFB_RUN is None, reason="needs xvfb-run (xvfb: scripts/install-deps)")
def test_headless_follows_a_stop_made_through_it_and_shows_the_display(sim_host, tmp_path):
    with running_guest(sim_host):
        manager = sim_host.spawn(XVFB_RUN, "-a", VM_MANAGER, "--headless", env=GTK_ENV,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        out = Lines(manager)
        lines = out.wait(lambda ls: "watching 1 guest(s)" in ls, "the guest list loaded")
        assert lines[0] == "added " + row(sim_host, "hvmconfig", "running"), lines

        # The display window: gtk-vnc's widget on OpenDisplay's socket gets through the VNC
        # handshake to the server's framebuffer size and desktop name (the sim's QEMU).
        out.send("display hvmconfig")
        out.wait(lambda ls: any(line.startswith("display hvmconfig: ") for line in ls),
                 "the display window's first report")
        assert 'display hvmconfig: connected 640x480 "QEMU (hvmconfig-dm-vfb)"' in out.lines, \
            out.lines
        # And what the widget shows is the server's screen, pixel for pixel: its picture
        # (the example's screenshot command) against QEMU's own screendump. Asked again until
        # the first full update has been drawn; each answer is a line, so a stall fails.
        server = server_screendump(sim_host, 5902, tmp_path / "server.ppm")
        shots = []

        def window_shows_the_server_screen():
            png = tmp_path / f"window{len(shots)}.png"
            shots.append(png)
            asked = len(out.lines)
            out.send(f"screenshot hvmconfig {png}")
            out.wait(lambda ls: len(ls) > asked, "a screenshot")
            assert out.lines[asked] == f"screenshot hvmconfig: saved {png}", out.lines
            return read_png_rgb(png) == server

        wait_for(window_shows_the_server_screen, what="the window to show the server's screen")

        # A Stop through the example: the row goes to stopped by the daemon's signals, the
        # call itself answers ok, and the display window learns its connection ended.
        out.send("stop hvmconfig")
        done = ("ok stop hvmconfig", "display hvmconfig: closed")
        lines = out.wait(lambda ls: all(d in ls for d in done) and any(
            line.startswith("changed hvmconfig state=stopped") for line in ls),
            "the stop, the stopped row and the display's end")
        states = [line.split()[2] for line in lines if line.startswith(("added", "changed"))]
        assert states[0] == "state=running" and states[-1] == "state=stopped", lines
        stopped = [line for line in lines if line.startswith("changed hvmconfig state=stopped")]
        assert stopped[-1].startswith("changed " + row(sim_host, "hvmconfig", "stopped") + " "), \
            lines
        assert not any(line.startswith("error") for line in lines), lines

        # Start again through it: a new stub domain, and the row running with its domid.
        seen = len(out.lines)
        out.send("start hvmconfig")
        lines = out.wait(lambda ls: "ok start hvmconfig" in ls[seen:], "the start")
        assert "changed " + row(sim_host, "hvmconfig", "running") in lines[seen:], lines

        # What the daemon refuses is shown as its typed error, name and all.
        seen = len(out.lines)
        out.send("stop no-such-guest")
        lines = out.wait(lambda ls: len(ls) > seen, "the refused stop")
        assert lines[seen].startswith("error stop no-such-guest: ") and \
            "NoSuchGuest" in lines[seen], lines

        out.send("quit")
        assert wait_process(manager, "vm-manager to exit") == 0, manager.stderr.read()
