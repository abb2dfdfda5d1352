"""stubdomd restarted (SIGTERM, SIGKILL) while a D-Bus client watches (issue 4): the
client, started before, sees the name change owner and the guests again — each once,
none lost — and the stub domains are adopted, not respawned (same stub domids).

The watcher is a separate python-dbus process with a GLib loop, doing what a VM
manager does: on NameOwnerChanged to a new owner it calls GetManagedObjects, and it
follows InterfacesAdded/Removed and PropertiesChanged. It prints one JSON line per event.
"""

import collections
import json
import queue
import subprocess
import sys
import threading
import time

import pytest

from simhost import STALL_SECONDS, sim_host  # noqa: F401  (fixture)
from stubdomd import EXAMPLES, Stubdomd

HVM = str(EXAMPLES / "hvmconfig")
MANAGED = ["red", "green"]
UNMANAGED = "plain"

WATCHER = r'''
import json, sys
import dbus, dbus.mainloop.glib
from gi.repository import GLib

dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
NAME, OM = "org.xen.Stubdom", "org.freedesktop.DBus.ObjectManager"
GUEST = "org.xen.Stubdom.Guest"
bus = dbus.bus.BusConnection(sys.argv[1])

def out(**event):
    print(json.dumps(event), flush=True)

def guest_props(interfaces):
    props = interfaces.get(GUEST)
    if props is None:
        return None
    return {"Name": str(props["Name"]), "State": str(props["State"]),
            "StubDomId": int(props["StubDomId"]), "DomId": int(props["DomId"])}

def snapshot(owner):
    objects = bus.call_blocking(NAME, "/org/xen/Stubdom", OM, "GetManagedObjects", "", [],
                                timeout=60)
    out(event="managed", owner=str(owner),
        guests={str(p): guest_props(i) for p, i in objects.items() if guest_props(i)})

def owner_changed(name, old, new):
    out(event="owner", old=str(old), new=str(new))
    if new:
        snapshot(new)

def added(path, interfaces, sender=None):
    props = guest_props(interfaces)
    if props:
        out(event="added", path=str(path), sender=str(sender), props=props)

def removed(path, interfaces, sender=None):
    if GUEST in interfaces:
        out(event="removed", path=str(path), sender=str(sender))

def changed(iface, props, invalidated, path=None, sender=None):
    if iface == GUEST:
        out(event="changed", path=str(path), sender=str(sender),
            props={str(k): (str(v) if isinstance(v, dbus.String) else int(v))
                   for k, v in props.items()})

def manager_signal(name, path, member=None, sender=None):
    out(event=str(member), name=str(name), path=str(path), sender=str(sender))

bus.add_signal_receiver(owner_changed, "NameOwnerChanged", "org.freedesktop.DBus",
                        "org.freedesktop.DBus", "/org/freedesktop/DBus", arg0=NAME)
bus.add_signal_receiver(added, "InterfacesAdded", OM, NAME, "/org/xen/Stubdom",
                        sender_keyword="sender")
bus.add_signal_receiver(removed, "InterfacesRemoved", OM, NAME, "/org/xen/Stubdom",
                        sender_keyword="sender")
bus.add_signal_receiver(changed, "PropertiesChanged", "org.freedesktop.DBus.Properties", NAME,
                        path_keyword="path", sender_keyword="sender")
bus.add_signal_receiver(manager_signal, None, "org.xen.Stubdom.Manager", NAME,
                        "/org/xen/Stubdom", member_keyword="member", sender_keyword="sender")
if bus.name_has_owner(NAME):
    snapshot(bus.get_name_owner(NAME))
out(event="ready")
GLib.MainLoop().run()
'''


class Watcher:
    def __init__(self, host):
        self.events: list[dict] = []
        self._queue: queue.Queue = queue.Queue()
        self.proc = host.spawn(sys.executable, "-c", WATCHER, host.env["DBUS_SYSTEM_BUS_ADDRESS"],
                               stdout=subprocess.PIPE, text=True, bufsize=1)
        threading.Thread(target=self._read, daemon=True).start()
        self.wait(lambda e: e["event"] == "ready")

    def _read(self):
        for line in self.proc.stdout:
            self._queue.put(json.loads(line))
        self._queue.put(None)

    def wait(self, predicate, what=""):
        """Consumes events until one satisfies predicate (events are kept in .events).
        Every event is progress: it fails only after STALL_SECONDS without one."""
        while True:
            try:
                event = self._queue.get(timeout=STALL_SECONDS)
            except queue.Empty:
                raise AssertionError(f"watcher saw no event for {STALL_SECONDS:.0f}s and never "
                                     f"{what or predicate}: {self.events}")
            assert event is not None, f"the watcher exited ({self.proc.poll()}): {self.events}"
            self.events.append(event)
            if predicate(event):
                return event

    def collect(self, seconds: float):
        """Keeps every event that arrives within `seconds`."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self._queue.get(timeout=left)
            except queue.Empty:
                return
            assert event is not None, f"the watcher exited ({self.proc.poll()})"
            self.events.append(event)

    def view_since(self, index: int) -> tuple[dict, collections.Counter]:
        """The guests as the client knows them from events[index:] (a snapshot, then
        added/removed/changed), and how often each path was announced."""
        view: dict[str, dict] = {}
        announced: collections.Counter = collections.Counter()
        for e in self.events[index:]:
            if e["event"] == "managed":
                view = {p: dict(g) for p, g in e["guests"].items()}
                announced.update(view.keys())
            elif e["event"] == "added":
                announced[e["path"]] += 1
                view[e["path"]] = dict(e["props"])
            elif e["event"] == "removed":
                view.pop(e["path"], None)
            elif e["event"] == "changed" and e["path"] in view:
                view[e["path"]].update({k: v for k, v in e["props"].items()
                                        if k in view[e["path"]]})
        return view, announced

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_clients_see_the_guests_again_after_a_restart(sim_host, how):
    d = Stubdomd(sim_host)
    for name in MANAGED:
        d.write_config_dir_file(f"stubdom-{name}", (EXAMPLES / "stubdom-hvmconfig").read_text())
    watcher = None
    with d:
        for name in MANAGED + [UNMANAGED]:
            sim_host.xl("create", HVM, f'name="{name}"', "memory=32")
        for name in MANAGED:
            d.wait_state(name, "running")
        d.wait_state(UNMANAGED, "unmanaged")
        before = d.guests()
        stubs = {n: sim_host.domid(f"{n}-dm") for n in MANAGED}
        assert all(stubs.values())
        try:
            watcher = Watcher(sim_host)
            view, _ = watcher.view_since(0)
            assert sorted(g["Name"] for g in view.values()) == sorted(before)

            mark = len(watcher.events)
            if how == "SIGTERM":
                d.stop()
            else:
                d.kill()
            watcher.wait(lambda e: e["event"] == "owner" and not e["new"],
                         what="the name to lose its owner")
            d.start()
            watcher.wait(lambda e: e["event"] == "owner" and e["new"],
                         what="the name to get a new owner")
            new_owner = watcher.wait(lambda e: e["event"] == "managed")["owner"]

            def complete(_event=None):
                view, _ = watcher.view_since(mark)
                states = {g["Name"]: g["State"] for g in view.values()}
                return states == {**{n: "running" for n in MANAGED}, UNMANAGED: "unmanaged"}
            if not complete():
                watcher.wait(complete, what="every guest back, in its state")
            watcher.collect(1.0)  # a late duplicate announcement would arrive now

            view, announced = watcher.view_since(mark)
            names = [g["Name"] for g in view.values()]
            assert sorted(names) == sorted(before), view  # none lost, none doubled
            assert all(n <= 1 for n in announced.values()), announced
            for path, g in view.items():
                assert path == before[g["Name"]]["path"]
                assert g["DomId"] == before[g["Name"]]["domid"]
                if g["Name"] in MANAGED:
                    assert g["StubDomId"] == stubs[g["Name"]], f"{g['Name']} respawned"
            after_restart = watcher.events[mark:]
            # Nothing told the client a guest went away: the stub domains kept running.
            assert not [e for e in after_restart if e["event"] in ("removed", "GuestRemoved")]
            # Whatever the new daemon announced came from the new owner.
            assert all(e["sender"] == new_owner for e in after_restart
                       if e["event"] in ("added", "changed", "GuestNew"))

            # The daemon agrees, and so does the hypervisor: no stub domain respawned.
            after = d.guests()
            assert sorted(after) == sorted(before)
            for n in MANAGED:
                assert sim_host.domid(f"{n}-dm") == stubs[n]
                assert after[n]["stub_domid"] == stubs[n]
            stub_domains = [n for n in (sim_host.xs_read(f"/local/domain/{i}/name")
                                        for i in sim_host.domains()) if n and n.endswith("-dm")]
            assert sorted(stub_domains) == sorted(f"{n}-dm" for n in MANAGED)
        finally:
            if watcher:
                watcher.stop()
