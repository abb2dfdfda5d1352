"""A guest's life seen from outside, on the bus (issue 4): `xl create` → InterfacesAdded
and GuestNew, State moving pending → … → running in PropertiesChanged that carry only
what changed, `xl destroy` → InterfacesRemoved and GuestRemoved; Stop, Start and
Restart do what they say, and Start replies once the stub domain runs, or with
SpawnFailed / TimedOut.

Signals are recorded by `busctl monitor --json=short`; the bus orders every message of
the daemon's connection, so "the reply came after State became running" is an order
in the monitor's record, not a timing.
"""

import pytest

from simhost import sim_host, wait_for  # noqa: F401  (fixture)
from stubdomd import EXAMPLES, Stubdomd
from test_dbus_helpers import (BUS_NAME, GUEST, GUEST_PROPERTIES, MANAGER, MANAGER_PATH, OBJMGR,
                               Monitor, changed_properties, connect, dbus_error, payload, proxy,
                               TIMEOUT, sv, unvariant)

HVM = str(EXAMPLES / "hvmconfig")
ORDER = ["pending", "spawning", "linking", "starting", "running"]


@pytest.fixture
def monitored(sim_host):
    """(host, daemon, monitor, connection): stubdomd up, a synced busctl monitor."""
    d = Stubdomd(sim_host)
    d.start()
    monitor = Monitor(sim_host)
    try:
        conn = connect(sim_host)
        monitor.sync(conn)
        yield sim_host, d, monitor, conn
    finally:
        monitor.stop()
        d.stop()


def from_daemon(messages, conn):
    owner = conn.get_name_owner(BUS_NAME)
    return [m for m in messages if m.get("sender") == owner]


def state_changes(messages, path):
    return [changed_properties(m)["State"] for m in messages
            if m.get("type") == "signal" and m.get("member") == "PropertiesChanged"
            and m.get("path") == path and "State" in changed_properties(m)]


def test_xl_create_and_destroy_as_signals(monitored):
    host, d, monitor, conn = monitored
    host.xl("create", HVM)
    guest = d.wait_state("hvmconfig", "running")
    path = guest["path"]
    monitor.wait(lambda ms: "running" in state_changes(ms, path), what="State running signalled")
    host.xl("destroy", "hvmconfig")
    monitor.wait(lambda ms: any(m.get("member") == "GuestRemoved" for m in ms),
                 what="GuestRemoved")
    monitor.wait(lambda ms: any(m.get("member") == "InterfacesRemoved" for m in ms),
                 what="InterfacesRemoved")
    signals = [m for m in from_daemon(monitor.snapshot(), conn) if m["type"] == "signal"]
    members = [(m["member"], m["path"]) for m in signals]

    # Announced once, on the ObjectManager, with complete properties, before anything else
    # about the guest; GuestNew with it.
    added = [m for m in signals if m["member"] == "InterfacesAdded"]
    assert len(added) == 1, members
    added_path, interfaces = payload(added[0])
    assert added_path == path and added[0]["path"] == MANAGER_PATH
    assert added[0]["interface"] == OBJMGR
    props = {k: unvariant(v) for k, v in interfaces[GUEST].items()}
    assert set(props) == set(GUEST_PROPERTIES)
    assert props["Name"] == "hvmconfig" and props["UUID"] == guest["uuid"]
    assert props["DomId"] == guest["domid"]
    new = [m for m in signals if m["member"] == "GuestNew"]
    assert len(new) == 1 and payload(new[0]) == ["hvmconfig", path]
    assert new[0]["path"] == MANAGER_PATH and new[0]["interface"] == MANAGER
    first_about_guest = min(i for i, m in enumerate(signals)
                            if m["path"] == path or m["member"] in ("InterfacesAdded", "GuestNew"))
    assert signals[first_about_guest]["member"] in ("InterfacesAdded", "GuestNew"), members

    # State: pending → … → running, in order, each step once.
    states = [props["State"]] + state_changes(signals, path)
    states = states[:states.index("running") + 1]
    assert states[0] == "pending", states
    assert states[-1] == "running", states
    assert [ORDER.index(s) for s in states] == sorted(set(ORDER.index(s) for s in states)), states

    # Every PropertiesChanged carries only properties that changed, with their values.
    current = dict(props)
    changes = [m for m in signals if m["member"] == "PropertiesChanged" and m["path"] == path]
    assert changes
    for m in changes:
        iface, changed, invalidated = payload(m)
        assert iface == GUEST and invalidated == []
        assert changed, "an empty PropertiesChanged"
        for name, value in changed.items():
            assert value["type"] == GUEST_PROPERTIES[name], name
            assert value["data"] != current[name], f"{name} signalled unchanged: {value['data']}"
            current[name] = value["data"]
        assert not {"Name", "UUID", "Flavour", "DomId"} & set(changed), changed
    assert current["State"] == "running"
    assert current["StubDomId"] == guest["stub_domid"]

    # xl destroy: InterfacesRemoved for the guest interface and GuestRemoved, last.
    removed = [m for m in signals if m["member"] == "InterfacesRemoved"]
    assert len(removed) == 1
    removed_path, removed_ifaces = payload(removed[0])
    assert removed_path == path and GUEST in removed_ifaces
    gone = [m for m in signals if m["member"] == "GuestRemoved"]
    assert len(gone) == 1 and payload(gone[0]) == ["hvmconfig", path]
    last = max(signals.index(removed[0]), signals.index(gone[0]))
    assert not [m for m in signals[last + 1:] if m["path"] == path], members
    assert "hvmconfig" not in d.guests()


def call_and_reply(monitor, member, path):
    """The monitor's messages once it has recorded the reply to the one call of `member`
    on `path`, with that call's and reply's indexes: the client has its reply before the
    monitor, which reads the bus on its own, has written it down."""
    def replied(messages):
        calls = [i for i, m in enumerate(messages) if m.get("type") == "method_call"
                 and m.get("member") == member and m.get("path") == path]
        assert len(calls) <= 1, f"{len(calls)} calls of {member}"
        if not calls:
            return None
        cookie = messages[calls[0]]["cookie"]
        replies = [i for i, m in enumerate(messages)
                   if m.get("type") in ("method_return", "error")
                   and m.get("reply_cookie") == cookie]
        return (messages, calls[0], replies[0]) if replies else None
    return monitor.wait(replied, what=f"busctl monitor to record {member}'s reply")


def test_stop_start_restart_do_what_they_say(monitored):
    host, d, monitor, conn = monitored
    host.xl("create", HVM)
    path = d.wait_state("hvmconfig", "running")["path"]
    guest = proxy(conn, path, GUEST)
    first_stub = host.domid("hvmconfig-dm")
    guest_domid = host.domid("hvmconfig")
    assert first_stub is not None

    guest.Stop(sv(), timeout=TIMEOUT)
    assert d.prop(path, "State") == "stopped"
    assert d.prop(path, "StubDomId") == 0
    assert host.domid("hvmconfig-dm") is None
    assert first_stub not in host.domains()
    assert host.domid("hvmconfig") == guest_domid  # the guest itself is untouched

    # Start replies only once the stub domain runs: slow its boot down, then check that
    # the bus carried State=running before the reply.
    host.set_setting("boot-delay-ms", 1500)
    guest.Start(sv(), timeout=TIMEOUT)
    assert d.prop(path, "State") == "running"
    second_stub = host.domid("hvmconfig-dm")
    assert second_stub is not None and second_stub != first_stub
    assert d.prop(path, "StubDomId") == second_stub
    messages, called, replied = call_and_reply(monitor, "Start", path)
    assert messages[replied]["type"] == "method_return"
    between = state_changes(messages[called:replied], path)
    assert between and between[-1] == "running", between
    assert "starting" in between, between  # the reply waited through the boot

    guest.Restart(sv(), timeout=TIMEOUT)
    third_stub = host.domid("hvmconfig-dm")
    assert third_stub is not None and third_stub not in (first_stub, second_stub)
    assert second_stub not in host.domains()
    assert d.prop(path, "State") == "running" and d.prop(path, "StubDomId") == third_stub
    messages, called, replied = call_and_reply(monitor, "Restart", path)
    between = state_changes(messages[called:replied], path)
    assert "stopping" in between and between[-1] == "running", between
    assert host.domid("hvmconfig") == guest_domid


def stopped_guest(host, d, conn):
    host.xl("create", HVM)
    path = d.wait_state("hvmconfig", "running")["path"]
    guest = proxy(conn, path, GUEST)
    guest.Stop(sv(), timeout=TIMEOUT)
    assert d.prop(path, "State") == "stopped"
    return path, guest


def test_start_replies_spawn_failed_when_xl_create_fails(monitored):
    host, d, monitor, conn = monitored
    path, guest = stopped_guest(host, d, conn)
    host.set_fault("xl-create-fail", "no room at the inn", domain="hvmconfig-dm")
    name, message = dbus_error(guest.Start, sv())
    assert name == "org.xen.Stubdom.Error.SpawnFailed", message
    assert "no room at the inn" in message
    assert d.prop(path, "State") == "failed"
    assert "no room at the inn" in d.prop(path, "LastError")
    assert host.domid("hvmconfig-dm") is None
    # Once the toolstack works again, Start works again.
    host.clear_fault("xl-create-fail", domain="hvmconfig-dm")
    guest.Start(sv(), timeout=TIMEOUT)
    assert d.prop(path, "State") == "running"


def test_start_replies_timed_out_when_the_stub_never_runs(sim_host):
    d = Stubdomd(sim_host, settings={"start_timeout_ms": 1500})
    with d:
        conn = connect(sim_host)
        path, guest = stopped_guest(sim_host, d, conn)
        sim_host.set_fault("stubdom-never-running", domain="hvmconfig-dm")
        name, message = dbus_error(guest.Start, sv())
        assert name == "org.xen.Stubdom.Error.TimedOut", message
        assert d.prop(path, "State") == "failed"
        assert d.prop(path, "LastError")
        # The stub domain that never ran is not left behind.
        wait_for(lambda: sim_host.domid("hvmconfig-dm") is None,
                 what="the stuck stub domain to be destroyed")
