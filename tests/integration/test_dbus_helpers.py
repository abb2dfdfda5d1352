"""Shared pieces of the `dbus` suite (test_dbus_*.py); this file holds no tests.

The suite drives the real stubdomd on the simulated host (simhost.py, stubdomd.py)
through real clients only: `busctl` (calls, properties, `monitor --json=short`),
`gdbus` (calls whose error *name* matters: busctl prints only the message) and
python-dbus (calls and, in a child process, a watcher with a GLib loop).
"""

from __future__ import annotations

import json
import subprocess
import threading
from typing import Callable, Optional

import dbus

from simhost import STALL_SECONDS, wait_for, wait_process

BUS_NAME = "org.xen.Stubdom"
MANAGER_PATH = "/org/xen/Stubdom"
MANAGER = "org.xen.Stubdom.Manager"
GUEST = "org.xen.Stubdom.Guest"
HELPER = "org.xen.Stubdom.Helper"
PROPS = "org.freedesktop.DBus.Properties"
OBJMGR = "org.freedesktop.DBus.ObjectManager"
PEER = "org.freedesktop.DBus.Peer"
INTROSPECTABLE = "org.freedesktop.DBus.Introspectable"

GUEST_PROPERTIES = {"Name": "s", "UUID": "s", "DomId": "u", "StubDomId": "u", "State": "s",
                    "StateReason": "s", "Flavour": "s", "DisplayMode": "s",
                    "DisplayAddress": "s", "DisplayPort": "i", "Restarts": "u",
                    "LastError": "s", "StubMemoryMiB": "t", "StubMemoryUsedKiB": "t",
                    "StubCpuTimeNs": "t"}

# A method call's reply timeout: the stall window of every wait (a reply that takes this
# long is stuck, not slow).
TIMEOUT = int(STALL_SECONDS)


def guest_path(uuid: str) -> str:
    """sd_bus_path_encode of a uuid under the guest prefix: every character but
    [A-Za-z0-9], and a leading digit, as _xx."""
    return "/org/xen/Stubdom/guest/" + "".join(
        c if c.isascii() and c.isalnum() and not (i == 0 and c.isdigit()) else "_%02x" % ord(c)
        for i, c in enumerate(uuid))


def sv(options=None):
    """An a{sv}: python-dbus cannot guess the signature of an empty dict."""
    return dbus.Dictionary(options or {}, signature="sv")


# python-dbus may keep a closed connection's watch around; keeping every connection
# referenced until the process ends is the safe side.
_connections: list = []


def connect(host) -> "dbus.bus.BusConnection":
    conn = dbus.bus.BusConnection(host.env["DBUS_SYSTEM_BUS_ADDRESS"])
    _connections.append(conn)
    return conn


def proxy(conn, path: str, iface: str):
    return dbus.Interface(conn.get_object(BUS_NAME, path, introspect=False), iface)


def dbus_error(method: Callable, *args, **kwargs) -> tuple[str, str]:
    """Calls a python-dbus method that must fail; returns (error name, message)."""
    try:
        method(*args, timeout=TIMEOUT, **kwargs)
    except dbus.exceptions.DBusException as e:
        return e.get_dbus_name(), e.get_dbus_message()
    raise AssertionError(f"{method} succeeded; an error was expected")


def raw_error(conn, path: str, iface: str, method: str, signature: str, args
              ) -> tuple[str, str]:
    """(error name, message) of a call that must fail, sent with exactly `signature`
    (python-dbus's call_blocking sends any, where busctl and gdbus would refuse)."""
    try:
        conn.call_blocking(BUS_NAME, path, iface, method, signature, args, timeout=TIMEOUT)
    except dbus.exceptions.DBusException as e:
        return e.get_dbus_name(), e.get_dbus_message()
    raise AssertionError(f"{method}({signature}) succeeded")


def plain(value):
    """python-dbus values as plain Python ones (for comparisons and messages)."""
    if isinstance(value, (dbus.Dictionary, dict)):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (dbus.Array, list, dbus.Struct, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (dbus.String, dbus.ObjectPath, str)):
        return str(value)
    if isinstance(value, dbus.Boolean):
        return bool(value)
    if isinstance(value, (int, dbus.Int32, dbus.UInt32, dbus.Int64, dbus.UInt64, dbus.Byte)):
        return int(value)
    return value


def gdbus_call(host, path: str, method: str, *args, user: Optional[str] = None
               ) -> subprocess.CompletedProcess:
    """`gdbus call` on the sim's system bus (method is interface.member). gdbus prints the
    error name (GDBus.Error:NAME: message) on failure, which busctl does not."""
    env = {"HOME": "/tmp"} if user else None
    return host.run("gdbus", "call", "--system", "--dest", BUS_NAME, "--object-path", path,
                    "--method", method, "--timeout", str(TIMEOUT), *args, user=user, env=env)


def error_name_of(result: subprocess.CompletedProcess) -> Optional[str]:
    """The D-Bus error name in a failed gdbus call's stderr."""
    marker = "GDBus.Error:"
    if marker not in result.stderr:
        return None
    return result.stderr.split(marker, 1)[1].split(":", 1)[0].strip()


class Monitor:
    """`busctl monitor --json=short org.xen.Stubdom` (root: it becomes a bus monitor):
    every message to or from the daemon's name, in the order the bus saw them. Start it,
    then `sync()` before doing what it should see."""

    def __init__(self, host, *names: str):
        self.host = host
        self.messages: list[dict] = []
        self._lock = threading.Lock()
        self._proc = host.spawn("busctl", "--system", "--json=short", "monitor",
                                *(names or (BUS_NAME,)), stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self._proc.stdout:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                message = json.loads(line)
            except ValueError:
                continue
            with self._lock:
                self.messages.append(message)

    def snapshot(self) -> list[dict]:
        with self._lock:
            return list(self.messages)

    def sync(self, conn):
        """Waits until the monitor records calls to the daemon: Peer.Ping until one
        shows up (the first ones may go by before the monitor is installed)."""
        peer = proxy(conn, MANAGER_PATH, PEER)

        def seen():
            peer.Ping(timeout=TIMEOUT)
            return any(m.get("member") == "Ping" for m in self.snapshot())
        wait_for(seen, interval=0.1, what="busctl monitor to record a Ping",
                 progress=lambda: len(self.snapshot()))

    def signals(self, member: Optional[str] = None, path: Optional[str] = None) -> list[dict]:
        return [m for m in self.snapshot() if m.get("type") == "signal"
                and (member is None or m.get("member") == member)
                and (path is None or m.get("path") == path)]

    def wait(self, predicate: Callable[[list[dict]], object], what: str = ""):
        """Until the recorded messages satisfy predicate; each new message is progress."""
        return wait_for(lambda: predicate(self.snapshot()), interval=0.05,
                        what=what or "busctl monitor to see it",
                        progress=lambda: len(self.snapshot()))

    def stop(self):
        if self._proc.poll() is None:
            self._proc.terminate()
            wait_process(self._proc, "busctl monitor to exit")
        self._reader.join()


def payload(message: dict) -> list:
    return message.get("payload", {}).get("data", [])


def unvariant(value):
    """busctl's JSON for a variant is {"type": T, "data": D}; a{sv} maps to such."""
    if isinstance(value, dict) and set(value) == {"type", "data"}:
        return value["data"]
    return value


def changed_properties(message: dict) -> dict:
    """The changed-properties dict of a PropertiesChanged message, plain values."""
    iface, changed, invalidated = payload(message)
    return {k: unvariant(v) for k, v in changed.items()}

