"""Who may do what (issue 4, DESIGN.md section 5), against the real daemon: a caller that
is not root (`nobody`, through setpriv, with gdbus and busctl) reads everything, is
refused every mutating call with AccessDenied when polkit is absent or says no, and
passes when polkit (python3-dbusmock's polkitd template) allows org.xen.Stubdom.manage.
"""

import json
import subprocess
import sys

import dbus
import pytest

from simhost import SimHost, cpu_ticks, wait_for, wait_process
from stubdomd import EXAMPLES, Stubdomd
from test_dbus_helpers import (GUEST, MANAGER, MANAGER_PATH, OBJMGR, connect, error_name_of,
                               gdbus_call)

HVM = str(EXAMPLES / "hvmconfig")
DENIED = "org.freedesktop.DBus.Error.AccessDenied"


@pytest.fixture(scope="module")
def env():
    with SimHost() as host:
        with Stubdomd(host) as d:
            host.xl("create", HVM, "memory=32")
            guest = d.wait_state("hvmconfig", "running")
            yield host, d, guest


def mutating_calls(guest):
    path = guest["path"]
    return [
        (MANAGER_PATH, MANAGER + ".Attach", [str(guest["domid"]), "@a{sv} {}"]),
        (MANAGER_PATH, MANAGER + ".Reload", []),
        (path, GUEST + ".Start", ["@a{sv} {}"]),
        (path, GUEST + ".Stop", ["@a{sv} {}"]),
        (path, GUEST + ".Restart", ["@a{sv} {}"]),
        (path, GUEST + ".Pause", []),
        (path, GUEST + ".Resume", []),
        (path, GUEST + ".SetDisplay", ["vnc-stubdom", "@a{sv} {}"]),
        (path, GUEST + ".SetDisplayPassword", ["secret"]),
        (path, GUEST + ".OpenDisplay", ["@a{sv} {}"]),
        (path, GUEST + ".OpenConsole", ["serial0", "@a{sv} {}"]),
    ]


def as_nobody(host, path, method, args):
    return gdbus_call(host, path, method, *args, user="nobody")


def assert_untouched(host, d, guest):
    assert d.guests()["hvmconfig"]["state"] == "running"
    assert host.domid("hvmconfig-dm") == guest["stub_domid"]


def test_nobody_reads_everything(env):
    host, d, guest = env
    r = d.busctl("--json=short", "get-property", "org.xen.Stubdom", guest["path"], GUEST,
                 "State", user="nobody")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["data"] == "running"
    r = d.busctl("--json=short", "call", "org.xen.Stubdom", MANAGER_PATH, MANAGER, "ListGuests",
                 user="nobody")
    assert r.returncode == 0, r.stderr
    assert [row[0] for row in json.loads(r.stdout)["data"][0]] == ["hvmconfig"]
    r = d.busctl("introspect", "org.xen.Stubdom", guest["path"], user="nobody")
    assert r.returncode == 0 and "StubDomId" in r.stdout, r.stderr
    r = d.busctl("tree", "--list", "org.xen.Stubdom", user="nobody")
    assert r.returncode == 0 and guest["path"] in r.stdout.split(), r.stderr
    for path, method, args in [
            (MANAGER_PATH, OBJMGR + ".GetManagedObjects", []),
            (MANAGER_PATH, MANAGER + ".GetGuest", ["hvmconfig"]),
            (MANAGER_PATH, MANAGER + ".GetGuestByDomid", [str(guest["domid"])]),
            (MANAGER_PATH, "org.freedesktop.DBus.Properties.GetAll", [MANAGER]),
            (guest["path"], GUEST + ".GetDisplay", [])]:
        r = as_nobody(host, path, method, args)
        assert r.returncode == 0, f"{method}: {r.stderr}"


def test_nobody_is_refused_every_mutating_call_without_polkit(env):
    host, d, guest = env
    for path, method, args in mutating_calls(guest):
        r = as_nobody(host, path, method, args)
        assert r.returncode != 0, method
        assert error_name_of(r) == DENIED, f"{method}: {r.stderr}"
        assert "polkit is not available" in r.stderr, f"{method}: {r.stderr}"
    assert_untouched(host, d, guest)


@pytest.fixture
def polkit(env):
    """python3-dbusmock's polkitd on the sim's bus (root may own its name there);
    yields its Mock interface, stopped afterwards."""
    host, d, guest = env
    mock = host.spawn(sys.executable, "-m", "dbusmock", "--system", "--template", "polkitd",
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    conn = connect(host)
    try:
        wait_for(lambda: mock.poll() is not None or conn.name_has_owner("org.freedesktop.PolicyKit1"),
                 what="dbusmock polkitd on the bus", progress=lambda: cpu_ticks(mock.pid))
        assert mock.poll() is None, "dbusmock polkitd exited"
        yield dbus.Interface(conn.get_object("org.freedesktop.PolicyKit1",
                                             "/org/freedesktop/PolicyKit1/Authority"),
                             "org.freedesktop.DBus.Mock")
    finally:
        mock.terminate()
        wait_process(mock, "the polkit mock to exit")
        wait_for(lambda: not conn.name_has_owner("org.freedesktop.PolicyKit1"),
                 what="the polkit mock to leave the bus")


def test_nobody_is_refused_when_polkit_says_no(env, polkit):
    host, d, guest = env
    for path, method, args in mutating_calls(guest):
        r = as_nobody(host, path, method, args)
        assert error_name_of(r) == DENIED, f"{method}: {r.stderr}"
        assert "not authorized for org.xen.Stubdom." in r.stderr, r.stderr
        assert "polkit is not available" not in r.stderr
    assert_untouched(host, d, guest)


def test_nobody_passes_when_polkit_allows_manage(env, polkit):
    host, d, guest = env
    polkit.SetAllowed(["org.xen.Stubdom.manage"])
    path = guest["path"]
    r = as_nobody(host, path, GUEST + ".Stop", ["@a{sv} {}"])
    assert r.returncode == 0, r.stderr
    assert d.guests()["hvmconfig"]["state"] == "stopped"
    assert host.domid("hvmconfig-dm") is None
    r = as_nobody(host, path, GUEST + ".Start", ["@a{sv} {}"])
    assert r.returncode == 0, r.stderr
    assert d.guests()["hvmconfig"]["state"] == "running"
    assert host.domid("hvmconfig-dm") is not None
    r = as_nobody(host, MANAGER_PATH, MANAGER + ".Reload", [])
    assert r.returncode == 0, r.stderr
    # SetDisplay gets past authorization: whatever it answers, it is not AccessDenied.
    r = as_nobody(host, path, GUEST + ".SetDisplay", ["vnc-stubdom", "@a{sv} {}"])
    assert r.returncode == 0 or error_name_of(r) not in (None, DENIED), r.stderr
    # The display password is another action, still refused.
    r = as_nobody(host, path, GUEST + ".SetDisplayPassword", ["secret"])
    assert error_name_of(r) == DENIED, r.stderr
    assert "org.xen.Stubdom.display" in r.stderr
