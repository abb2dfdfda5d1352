"""stubdomd as a Type=notify service: READY=1 only once the registry is rebuilt and the
bus name is owned, STATUS= lines with the counts, WATCHDOG=1 at half the interval systemd
asks for (issue 7). A datagram socket stands in for systemd's NOTIFY_SOCKET."""

import socket
import time

from simhost import sim_host, wait_for  # noqa: F401  (fixture)
from stubdomd import EXAMPLES, Stubdomd


class NotifySocket:
    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.messages = []  # (monotonic time, {key: value})

    def drain(self, on_message=None):
        while True:
            try:
                data = self.sock.recv(4096).decode()
            except socket.timeout:
                return
            fields = dict(line.split("=", 1) for line in data.splitlines() if "=" in line)
            self.messages.append((time.monotonic(), fields))
            if on_message:
                on_message(fields)

    def close(self):
        self.sock.close()


def name_owned(d):
    r = d.busctl("call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                 "NameHasOwner", "s", "org.xen.Stubdom")
    return r.stdout.strip() == "b true"


def test_ready_comes_after_the_registry_and_the_name_then_status_and_watchdog(sim_host, tmp_path):
    # A guest that exists before the daemon starts: READY must not come before it is known.
    sim_host.xl("create", EXAMPLES / "hvmconfig")
    notify = NotifySocket(tmp_path / "notify")
    d = Stubdomd(sim_host, env={"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"})
    seen_at_ready = {}

    def on_message(fields):
        if fields.get("READY") == "1" and not seen_at_ready:
            seen_at_ready["owned"] = name_owned(d)
            seen_at_ready["guests"] = d.guests()
    try:
        d.start(wait_ready=False)
        wait_for(lambda: notify.drain(on_message) or seen_at_ready, what="READY=1")
        assert seen_at_ready["owned"], "READY=1 came before org.xen.Stubdom was owned"
        assert "hvmconfig" in seen_at_ready["guests"], "READY=1 came before the registry was rebuilt"
        ready = next(f for _, f in notify.messages if f.get("READY") == "1")
        assert ready["STATUS"].startswith("1 HVM guests, ")

        d.wait_state("hvmconfig", "running")

        def statuses():
            return [f["STATUS"] for _, f in notify.messages if "STATUS" in f]

        def pings():
            return [t for t, f in notify.messages if f.get("WATCHDOG") == "1"]
        # Every 200 ms asked: pings keep coming (each message is progress), however slowly
        # a busy machine lets them come.
        wait_for(lambda: notify.drain() or (
            "1 HVM guests, 1 stub domains running, 0 paused, 0 in progress, 0 failed" in statuses()
            and len(pings()) >= 3), what="the running status and a few watchdog pings",
            progress=lambda: len(notify.messages))
        assert "1 HVM guests, 1 stub domains running, 0 paused, 0 in progress, 0 failed" in statuses()
        assert len(pings()) >= 3, f"{len(pings())} watchdog pings"
    finally:
        d.stop()
        notify.drain()
        notify.close()
    assert any(f.get("STOPPING") == "1" for _, f in notify.messages)


def test_no_watchdog_pings_unless_systemd_asks(sim_host, tmp_path):
    notify = NotifySocket(tmp_path / "notify")
    d = Stubdomd(sim_host, env={"NOTIFY_SOCKET": notify.path})
    try:
        d.start()
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            notify.drain()
        assert any(f.get("READY") == "1" for _, f in notify.messages)
        assert not any("WATCHDOG" in f for _, f in notify.messages)
    finally:
        d.stop()
        notify.close()
