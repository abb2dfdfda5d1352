"""Fixtures for the client tests against fake_stubdomd.py on a private bus: the bus,
the fake daemon (with its test-control proxy), and runners for stubdomctl and stubdom-dm.
Binaries come from STUBDOMCTL / STUBDOM_DM (set by meson), else build-cli/."""
import os
import pathlib
import select
import subprocess
import sys
import tempfile
import time

import dbus
import pytest

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
STUBDOMCTL = os.environ.get("STUBDOMCTL", str(ROOT / "build-cli/cli/stubdomctl"))
STUBDOM_DM = os.environ.get("STUBDOM_DM", str(ROOT / "build-cli/cli/stubdom-dm"))
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

# Like a system bus, but anyone may own names: the fake is not run as root-only
# org.xen.Stubdom; the policy file for the real one is tested with the real daemon.
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""


_pending = {}  # fd → bytes read but not yet returned


def wait_line(stream, text, timeout=10):
    """Reads lines from stream (a pipe) until one contains text; returns the lines read.
    Reads the fd itself: a buffered readline would hide lines from select()."""
    fd = stream.fileno()
    seen = ""
    deadline = time.monotonic() + timeout
    while True:
        buffer = _pending.get(fd, b"")
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            _pending[fd] = buffer
            seen += line.decode() + "\n"
            if text in line.decode():
                return seen
        left = deadline - time.monotonic()
        ready = select.select([fd], [], [], max(left, 0))[0] if left > 0 else []
        chunk = os.read(fd, 65536) if ready else b""
        if not chunk:
            raise AssertionError("no line with %r within %ss; got %r" % (text, timeout, seen))
        _pending[fd] = buffer + chunk


def stop(process):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def bus():
    with tempfile.TemporaryDirectory(prefix="stubdom-client-") as tmp:
        os.chmod(tmp, 0o755)  # nobody connects too
        socket = os.path.join(tmp, "bus")
        config = os.path.join(tmp, "bus.conf")
        with open(config, "w") as f:
            f.write(BUS_CONFIG.format(socket=socket))
        daemon = subprocess.Popen(["dbus-daemon", "--nofork", "--nosyslog",
                                   "--config-file=" + config, "--print-address"],
                                  stdout=subprocess.PIPE, text=True)
        try:
            address = daemon.stdout.readline().strip()
            assert address, "dbus-daemon did not start"
            yield address
        finally:
            stop(daemon)


def uuid_of(domid):
    return "%08d-0000-4000-8000-000000000000" % domid


class Fake:
    def __init__(self, address):
        self.address = address
        self.process = None
        self.connection = None

    def start(self, guests=()):
        """guests: (name, domid) pairs exported before the name is taken, as stubdomd
        does when it starts with guests already running."""
        seed = ["%s:%d" % guest for guest in guests]
        self.process = subprocess.Popen([sys.executable, str(HERE / "fake_stubdomd.py"),
                                         self.address, *seed], stdout=subprocess.PIPE)
        wait_line(self.process.stdout, "ready")
        self.connection = dbus.bus.BusConnection(self.address)
        self.control = dbus.Interface(
            self.connection.get_object("org.xen.Stubdom", "/org/xen/StubdomTest"),
            "org.xen.StubdomTest")

    def stop(self):
        if self.process is not None:
            stop(self.process)
            self.process = None

    def add(self, name, domid, state="running", uuid=None):
        uuid = uuid or uuid_of(domid)
        return str(self.control.AddGuest(name, uuid, dbus.UInt32(domid), state))

    def calls(self):
        return [str(c) for c in self.control.Calls()]


@pytest.fixture
def fake(bus):
    daemon = Fake(bus)
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def env(bus):
    return dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus)


@pytest.fixture
def ctl(env):
    """Runs stubdomctl ARGS…; as_nobody=True runs it as uid/gid 65534."""
    def run(*args, as_nobody=False, timeout=30):
        command = (NOBODY if as_nobody else []) + [STUBDOMCTL, *args]
        return subprocess.run(command, env=env, capture_output=True, text=True,
                              timeout=timeout)
    return run
