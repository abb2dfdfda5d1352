"""Hostile clients (issue 9): floods from several connections at once, oversized strings,
calls on objects, interfaces and members that do not exist, every method with the wrong
signature, a{sv} options with wrong types and unknown keys, callers that vanish in the
middle of an async Start/Restart/Attach and a caller that never reads its replies.

The daemon must stay up (a normal call is still answered afterwards), answer each call
with a clear error or drop it cleanly, never let a non-root caller through, and leak
nothing: its fd count and RSS (from /proc/<pid>) are compared before and after the
floods, after a warmup round.

The clients are separate processes (hostile_client.py, python-dbus), each with its own
connection, some of them as `nobody`.

STUBDOMD_HOSTILE_FLOOD is the size of the big flood, in rounds per connection (default 500,
six calls each). STUBDOMD_HOSTILE_NEAR_LIMIT=0 leaves out the strings at the bus's
message limit (the 1 MiB ones stay). The sanitizer build's run (tests/sanitize/meson.build)
takes a flood of 150 and no strings at the limit: what the sanitizers look for shows at
any size, and instrumented these made this file the longest of CI's sanitizer step.
"""

import json
import os
import signal
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import dbus
import pytest

from simhost import SOURCE_ROOT, SimHost, communicate, rss_kib, wait_for, wait_process
from stubdomd import EXAMPLES, SANITIZED, Stubdomd
from test_dbus_helpers import (BUS_NAME, GUEST, HELPER, MANAGER, MANAGER_PATH, PROPS, TIMEOUT,
                               connect, raw_error, sv)

HVM = str(EXAMPLES / "hvmconfig")
FLOOD = int(os.environ.get("STUBDOMD_HOSTILE_FLOOD", "500"))
STRING_SIZES = (["1MiB", "limit"] if os.environ.get("STUBDOMD_HOSTILE_NEAR_LIMIT", "1") != "0"
                else ["1MiB"])
CLIENT = Path(__file__).resolve().parent / "hostile_client.py"
PYTHON = "/usr/bin/python3"  # Debian's, which has python-dbus (as in meson.build)
INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"
DENIED = "org.freedesktop.DBus.Error.AccessDenied"
INVALID_STATE = "org.xen.Stubdom.Error.InvalidState"
# The bus's max_message_size (dbus-daemon's built-in default, which the sim's system.conf
# keeps, as Debian's does): a message above it makes the bus drop the sender.
BUS_MESSAGE_LIMIT = 32 * 1024 * 1024
# An error message echoes at most this much of what the caller sent (see ErrorMapping).
ERROR_MESSAGE_BOUND = 4096


@pytest.fixture(scope="module")
def env():
    """`hvmconfig` running, `second` (same stub config) running; stub domains boot in
    1.5 s so an async Start is still pending when its caller vanishes."""
    with SimHost(boot_delay_ms=1500) as host:
        with Stubdomd(host) as d:
            d.write_config_dir_file("stubdom-second",
                                    (EXAMPLES / "stubdom-hvmconfig").read_text())
            host.xl("create", HVM, "memory=32")
            host.xl("create", HVM, 'name="second"', "memory=32")
            d.wait_state("hvmconfig", "running")
            d.wait_state("second", "running")
            yield host, d
            assert d.proc.poll() is None, d.log()


def still_serving(d):
    """The daemon is up and answers a normal call."""
    assert d.proc.poll() is None, d.log()
    assert "hvmconfig" in d.guests()


# -- what the daemon holds, from /proc --------------------------------------------------

def fd_count(d) -> int:
    return len(os.listdir(f"/proc/{d.proc.pid}/fd"))


# After a warmup round has grown the heap, sd-bus's buffers and the caches to their
# working size, another round of the same work must not need more memory: what a
# round allocates is freed when its calls are answered. glibc keeps freed memory in
# its arenas and returns it in pieces, so a few hundred KiB of noise are normal; a
# leak of even 100 bytes per call would show as 1.8 MiB over the 18000 calls of a
# flood round (and a leaked fd per connection as 6 fds), which is what the bounds catch.
RSS_SLACK_KIB = 1024


def assert_nothing_leaked(d, fds_before, rss_before):
    # Calls are answered before their connection's teardown is noticed: poll.
    wait_for(lambda: fd_count(d) <= fds_before, progress=lambda: fd_count(d),
             what=f"stubdomd's fds back to {fds_before} (now {fd_count(d)})")
    rss = rss_kib(d.proc.pid)
    if not SANITIZED:  # there LeakSanitizer checks the heap as the daemon exits
        assert rss <= rss_before + RSS_SLACK_KIB, f"RSS grew from {rss_before} to {rss} KiB"


# -- clients in their own processes -----------------------------------------------------

def client(host, job: dict, user=None, **kwargs) -> subprocess.Popen:
    return host.spawn(PYTHON, CLIENT, host.env["DBUS_SYSTEM_BUS_ADDRESS"], json.dumps(job),
                      user=user, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                      **kwargs)


def flood(host, d, processes: int, count: int, user=None, expect_start=INVALID_STATE):
    guest = d.guests()["hvmconfig"]["path"]
    job = {"job": "flood", "count": count, "guest": guest, "start_error": expect_start}
    procs = [client(host, job, user=user) for _ in range(processes)]
    results = []
    for p in procs:
        out, err = communicate(p, "a flood client to finish", progress=host.activity)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    return results


def test_floods_from_several_connections_are_answered_and_leak_nothing(env):
    host, d = env
    flood(host, d, processes=3, count=50)  # warmup
    fds, rss = fd_count(d), rss_kib(d.proc.pid)
    results = flood(host, d, processes=6, count=FLOOD)
    for r in results:
        assert r["unexpected"] == [], r
        assert r["calls"] == 6 * FLOOD
        assert r["answers"] == {"ok": 4 * FLOOD, "org.xen.Stubdom.Error.NoSuchGuest": FLOOD,
                                INVALID_STATE: FLOOD}, r
    assert_nothing_leaked(d, fds, rss)
    still_serving(d)


def test_a_non_root_flood_of_every_mutating_call_is_denied_every_time(env):
    """Several connections as `nobody` (no polkit on this bus: fail closed), all at once."""
    host, d = env
    before = d.guests()["hvmconfig"]
    job = {"job": "deny", "count": 30, "guest": before["path"], "domid": before["domid"]}
    procs = [client(host, job, user="nobody") for _ in range(4)]
    methods = ("Attach", "Reload", "Start", "Stop", "Restart", "SetDisplay",
               "SetDisplayPassword")
    for p in procs:
        out, err = communicate(p, "a denied client to finish", progress=host.activity)
        assert p.returncode == 0, err
        assert json.loads(out)["answers"] == {f"{m}: {DENIED}": 30 for m in methods}, out
    after = d.guests()["hvmconfig"]
    assert after["state"] == "running" and after["stub_domid"] == before["stub_domid"]
    assert host.domid("hvmconfig-dm") == before["stub_domid"]
    still_serving(d)


def test_a_non_root_flood_of_start_is_denied_every_time(env):
    host, d = env
    before = d.guests()["hvmconfig"]
    results = flood(host, d, processes=4, count=100, user="nobody", expect_start=DENIED)
    for r in results:
        assert r["unexpected"] == [], r
        assert r["answers"][DENIED] == 100, r
    after = d.guests()["hvmconfig"]
    assert after["state"] == "running" and after["stub_domid"] == before["stub_domid"]
    assert host.domid("hvmconfig-dm") == before["stub_domid"]
    still_serving(d)


# -- oversized strings ------------------------------------------------------------------

def least_overhead(*header_strings) -> int:
    """A lower bound of what a call's message holds besides its text: the fixed header
    (16 bytes) and, for each of path, interface, member, destination and signature, its
    field code, type and length and the string with its NUL; the text's own length and
    NUL. The bus adds the sender and the fields their padding, so the real overhead is
    larger: a text longer than BUS_MESSAGE_LIMIT - least_overhead never fits."""
    return 16 + sum(8 + len(s) + 1 for s in header_strings) + 5


def near_limit(conn_factory, make_call, least_room):
    """Calls make_call(conn, text) with the longest text the bus still passes in that call:
    a text BUS_MESSAGE_LIMIT - room bytes long, with room growing from least_room (below
    which nothing fits) until the bus no longer drops the (hostile) client for its
    oversized message. An error or result echoing that text would be the largest message
    possible. Each try sends 32 MiB: starting at the bound saves most of them."""
    for room in range(least_room, least_room + 1000, 20):
        try:
            result = make_call(conn_factory(), "x" * (BUS_MESSAGE_LIMIT - room))
            # Passing at the bound would mean it is no bound, and a longer text could pass.
            assert room > least_room, f"a text of the limit less {room} bytes passed the bus"
            return result
        except dbus.exceptions.DBusException as e:
            # The bus drops a client whose message is too large; libdbus reports that as
            # Disconnected or, when the drop races the wait, NoReply. Either way it was
            # the client that went if the daemon still owns its name.
            if e.get_dbus_name() not in ("org.freedesktop.DBus.Error.Disconnected",
                                         "org.freedesktop.DBus.Error.NoReply"):
                raise
            if not conn_factory().name_has_owner(BUS_NAME):
                raise AssertionError("stubdomd lost its bus name") from e
    raise AssertionError("the bus refused every size tried")


MIB = "x" * (1 << 20)


def oversized_cases(guest):
    """name: (path, interface, method, signature, args of the text, expected error)."""
    def menu(text):
        return [sv({"arch": "x86_64", "menu": "(hd0,0)/" + text})]
    return {
        "GetGuest": (MANAGER_PATH, MANAGER, "GetGuest", "s", lambda t: [t],
                     "org.xen.Stubdom.Error.NoSuchGuest"),
        "Attach-key": (MANAGER_PATH, MANAGER, "Attach", "ua{sv}",
                       lambda t: [dbus.UInt32(1), sv({t: dbus.Boolean(True)})], INVALID_ARGS),
        "Start-key": (guest, GUEST, "Start", "a{sv}", lambda t: [sv({t: dbus.Boolean(True)})],
                      INVALID_ARGS),
        "SetDisplay-mode": (guest, GUEST, "SetDisplay", "sa{sv}", lambda t: [t, sv()],
                            "org.xen.Stubdom.Error.InvalidDisplay"),
        "SetDisplay-keymap": (guest, GUEST, "SetDisplay", "sa{sv}",
                              lambda t: ["vnc-stubdom", sv({"keymap": t})],
                              "org.xen.Stubdom.Error.InvalidDisplay"),
        "PvGrubCheck-path": (MANAGER_PATH, MANAGER, "PvGrubCheck", "s", lambda t: ["/" + t],
                             INVALID_ARGS),
        "PvGrubConfig-menu": (MANAGER_PATH, MANAGER, "PvGrubConfig", "a{sv}", menu,
                              "org.xen.Stubdom.Error.InvalidConfig"),
        "PvGrubConfig-image": (MANAGER_PATH, MANAGER, "PvGrubConfig", "a{sv}",
                               lambda t: [sv({"arch": "x86_64",
                                              "image": "/" + t + "/pv-grub-x86_64.gz"})],
                               INVALID_ARGS),
    }


@pytest.mark.parametrize("size", STRING_SIZES)
@pytest.mark.parametrize("what", ["GetGuest", "Attach-key", "Start-key", "SetDisplay-mode",
                                  "SetDisplay-keymap", "PvGrubCheck-path", "PvGrubConfig-menu",
                                  "PvGrubConfig-image"])
def test_oversized_strings_get_a_bounded_error(env, what, size):
    """Each gets its error with a message of bounded size, and the daemon keeps its name:
    an error (or a result) that echoed a caller's string near the bus's message limit
    would itself exceed it, and the bus would drop the daemon's connection instead of
    delivering it. Attach, PvGrubCheck and PvGrubConfig are open to every caller (or
    check their options before authorization), so this is for anyone to try."""
    host, d = env
    guest = d.guests()["hvmconfig"]["path"]
    path, iface, method, signature, args_of, expected = oversized_cases(guest)[what]

    def call(conn, text):
        try:
            conn.call_blocking(BUS_NAME, path, iface, method, signature, args_of(text),
                               timeout=TIMEOUT)
        except dbus.exceptions.DBusException as e:
            if e.get_dbus_name() in ("org.freedesktop.DBus.Error.Disconnected",
                                     "org.freedesktop.DBus.Error.NoReply"):
                raise
            return e.get_dbus_name(), e.get_dbus_message()
        raise AssertionError(f"{method} with a {len(text)}-byte string succeeded")

    if size == "1MiB":
        name, message = call(connect(host), MIB)
    else:
        name, message = near_limit(lambda: connect(host), call,
                                   least_overhead(path, iface, method, BUS_NAME, signature))
    assert name == expected, message[:500]
    assert len(message.encode()) <= ERROR_MESSAGE_BOUND, message[:500]
    still_serving(d)
    assert d.guests()["hvmconfig"]["state"] == "running"


def test_a_non_root_oversized_password_is_denied_with_a_short_error(env):
    host, d = env
    guest = d.guests()["hvmconfig"]["path"]
    r = host.run(PYTHON, "-c", NOBODY_PASSWORD, host.env["DBUS_SYSTEM_BUS_ADDRESS"], guest,
                 user="nobody", timeout=TIMEOUT + 30)
    assert r.returncode == 0, r.stderr
    name, length = json.loads(r.stdout)
    assert name == DENIED and length <= ERROR_MESSAGE_BOUND
    still_serving(d)


NOBODY_PASSWORD = """
import json, sys, dbus
conn = dbus.bus.BusConnection(sys.argv[1])
try:
    conn.call_blocking("org.xen.Stubdom", sys.argv[2], "org.xen.Stubdom.Guest",
                       "SetDisplayPassword", "s", ["p" * (1 << 20)], timeout=60)
    print(json.dumps(["ok", 0]))
except dbus.exceptions.DBusException as e:
    print(json.dumps([e.get_dbus_name(), len(e.get_dbus_message().encode())]))
"""


# -- objects, interfaces and members that do not exist -----------------------------------

@pytest.mark.parametrize("path,iface,method,signature,args,expected", [
    ("/org/xen/Stubdom/guest/nonexistent", GUEST, "Start", "a{sv}", [sv()],
     "org.freedesktop.DBus.Error.UnknownObject"),
    ("/org/xen/Stubdom/guest/_zz", PROPS, "GetAll", "s", [GUEST],
     "org.freedesktop.DBus.Error.UnknownObject"),
    ("/org/xen/Stubdom/helper/no_such_helper", HELPER, "Stop", "", [],
     "org.freedesktop.DBus.Error.UnknownObject"),
    ("/org/xen", MANAGER, "ListGuests", "", [], "org.freedesktop.DBus.Error.UnknownObject"),
    ("/" + "a/" * 2000 + "b", MANAGER, "ListGuests", "", [],
     "org.freedesktop.DBus.Error.UnknownObject"),
    # sd-bus answers an interface the object does not have as an unknown method.
    (MANAGER_PATH, "org.xen.Stubdom.Nothing", "ListGuests", "", [],
     "org.freedesktop.DBus.Error.UnknownMethod"),
    (MANAGER_PATH, MANAGER, "DestroyEverything", "", [],
     "org.freedesktop.DBus.Error.UnknownMethod"),
    (MANAGER_PATH, GUEST, "Start", "a{sv}", [sv()], "org.freedesktop.DBus.Error.UnknownMethod"),
    (MANAGER_PATH, PROPS, "Get", "ss", [MANAGER, "NoSuchProperty"],
     "org.freedesktop.DBus.Error.UnknownProperty"),
    (MANAGER_PATH, PROPS, "Get", "ss", ["org.xen.Stubdom.Nothing", "Version"],
     "org.freedesktop.DBus.Error.UnknownProperty"),
    (MANAGER_PATH, PROPS, "GetAll", "s", ["org.xen.Stubdom.Nothing"],
     "org.freedesktop.DBus.Error.UnknownInterface"),
    (MANAGER_PATH, PROPS, "Set", "ssv", [MANAGER, "Version", dbus.String("9", variant_level=1)],
     "org.freedesktop.DBus.Error.PropertyReadOnly"),
], ids=lambda v: v[:40] if isinstance(v, str) else None)
def test_calls_on_what_does_not_exist_get_the_bus_errors(env, path, iface, method, signature,
                                                         args, expected):
    host, d = env
    name, message = raw_error(connect(host), path, iface, method, signature, args)
    assert name == expected, message
    still_serving(d)


def test_a_guest_property_cannot_be_set(env):
    host, d = env
    guest = d.guests()["hvmconfig"]["path"]
    for prop, value in (("State", dbus.String("stopped", variant_level=1)),
                        ("StubDomId", dbus.UInt32(0, variant_level=1)),
                        ("DomId", dbus.String("x", variant_level=1))):
        name, message = raw_error(connect(host), guest, PROPS, "Set", "ssv",
                                   [GUEST, prop, value])
        assert name in ("org.freedesktop.DBus.Error.PropertyReadOnly", INVALID_ARGS), message
    assert d.guests()["hvmconfig"]["state"] == "running"


# -- every method with the wrong signature ------------------------------------------------

def interface_methods():
    """(interface, method, [in-arg types]) of every method in dbus/*.xml."""
    methods = []
    for xml in sorted((SOURCE_ROOT / "dbus").glob("org.xen.Stubdom.*.xml")):
        for iface in ET.parse(xml).getroot().iter("interface"):
            for m in iface.iter("method"):
                ins = [a.get("type") for a in m.iter("arg") if a.get("direction", "in") == "in"]
                methods.append((iface.get("name"), m.get("name"), ins))
    return methods


def value_of(signature):
    return {"s": "x", "u": dbus.UInt32(1), "i": dbus.Int32(1), "b": dbus.Boolean(True),
            "o": dbus.ObjectPath("/x"), "a{sv}": sv()}[signature]


def wrong_calls(ins):
    """(signature, args) that do not match `ins`: one argument short, one too many,
    each argument of another type."""
    right = [(t, value_of(t)) for t in ins]
    calls = []
    if ins:
        calls.append(right[:-1])
    calls.append(right + [("s", "extra")])
    for i, t in enumerate(ins):
        wrong = ("u", dbus.UInt32(7)) if t == "s" else ("s", "7")
        calls.append(right[:i] + [wrong] + right[i + 1:])
    return [("".join(t for t, _ in c), [v for _, v in c]) for c in calls]


def test_every_method_with_a_wrong_signature_is_invalid_args(env):
    host, d = env
    conn = connect(host)
    paths = {MANAGER: MANAGER_PATH, GUEST: d.guests()["hvmconfig"]["path"],
             HELPER: "/org/xen/Stubdom/helper/fs_backend"}
    tried = 0
    for iface, method, ins in interface_methods():
        for signature, args in wrong_calls(ins):
            name, message = raw_error(conn, paths[iface], iface, method, signature, args)
            assert name == INVALID_ARGS, f"{iface}.{method}({signature}): {name}: {message}"
            tried += 1
    # Manager 7, Guest 13 (Pause, Resume, GetConsoleLog, OpenConsoleLog, OpenDisplay,
    # OpenConsole and WatchResources among them), Helper 3 methods: the XML must not have
    # been misread.
    assert len(interface_methods()) == 23 and tried > 30
    # sd-bus's own Properties.Get reads its two strings and ignores what follows, so
    # only the short and mistyped calls are InvalidArgs there.
    for signature, args in wrong_calls(["s", "s"]):
        if signature != "sss":
            name, _ = raw_error(conn, MANAGER_PATH, PROPS, "Get", signature, args)
            assert name == INVALID_ARGS, signature
    assert d.guests()["hvmconfig"]["state"] == "running"
    still_serving(d)


# -- a{sv} options --------------------------------------------------------------------------

ATTACH_KEYS = {"keymap": "s", "sdl": "b", "videoram": "u", "vnc": "b", "vncdisplay": "u",
               "vnclisten": "s", "vncunused": "b"}


def other_typed(signature):
    """Values of every type but `signature`, variants of variants among them."""
    values = {"s": dbus.String("x", variant_level=1), "b": dbus.Boolean(True, variant_level=1),
              "u": dbus.UInt32(1, variant_level=1), "i": dbus.Int32(1, variant_level=1),
              "t": dbus.UInt64(1, variant_level=1),
              "as": dbus.Array(["x"], signature="s", variant_level=1),
              "v": dbus.String("x", variant_level=2)}
    return {t: v for t, v in values.items() if t != signature}


def test_options_of_a_wrong_type_or_unknown_key_are_invalid_args_naming_the_key(env):
    host, d = env
    conn = connect(host)
    guest = d.guests()["hvmconfig"]
    domid = dbus.UInt32(guest["domid"])
    checked = 0
    for key, signature in ATTACH_KEYS.items():
        for actual, value in other_typed(signature).items():
            name, message = raw_error(conn, MANAGER_PATH, MANAGER, "Attach", "ua{sv}",
                                       [domid, sv({key: value})])
            assert name == INVALID_ARGS and f"'{key}'" in message, message
            assert f"'{signature}'" in message, message
            checked += 1
    for key, signature in {"address": "s", "port": "i", "keymap": "s"}.items():
        for actual, value in other_typed(signature).items():
            name, message = raw_error(conn, guest["path"], GUEST, "SetDisplay", "sa{sv}",
                                       ["vnc-stubdom", sv({key: value})])
            assert name == INVALID_ARGS and f"'{key}'" in message, message
            checked += 1
    for method in ("Start", "Stop", "Restart", "OpenDisplay"):
        for key in ("force", "", "vnc", "\u00e9\u00e8" * 60):
            name, message = raw_error(conn, guest["path"], GUEST, method, "a{sv}",
                                       [sv({key: dbus.Boolean(True, variant_level=1)})])
            assert name == INVALID_ARGS and f"'{key}'" in message, message
            checked += 1
    # OpenConsole: its options (none defined) and its console name, refused before anything
    # is opened.
    for key in ("force", "", "read-only", "\u00e9\u00e8" * 60):
        name, message = raw_error(conn, guest["path"], GUEST, "OpenConsole", "sa{sv}",
                                   ["serial0", sv({key: dbus.Boolean(True, variant_level=1)})])
        assert name == INVALID_ARGS and f"'{key}'" in message, message
        checked += 1
    for console in ("", "serial1", "hvc0", "../stub", "\u00e9" * 300):
        name, message = raw_error(conn, guest["path"], GUEST, "OpenConsole", "sa{sv}",
                                   [console, sv({})])
        assert name == INVALID_ARGS and f"'{console}'" in message, message
        checked += 1
    # Start's and Restart's one key: a string, and a size.
    for method in ("Start", "Restart"):
        for actual, value in other_typed("s").items():
            name, message = raw_error(conn, guest["path"], GUEST, method, "a{sv}",
                                       [sv({"stub-memory": value})])
            assert name == INVALID_ARGS and "'stub-memory'" in message, message
            checked += 1
        for text in ("", "500Q", "-1", "0", "99999999999999999999G", "\u00e9" * 300):
            name, message = raw_error(conn, guest["path"], GUEST, method, "a{sv}",
                                       [sv({"stub-memory": dbus.String(text, variant_level=1)})])
            assert name == INVALID_ARGS and "stub-memory" in message, message
            assert len(message) < 4096
            checked += 1
    # A known key among unknown ones does not get the call through.
    name, message = raw_error(conn, MANAGER_PATH, MANAGER, "Attach", "ua{sv}",
                               [domid, sv({"vnc": dbus.Boolean(True), "stubdom": "x"})])
    assert name == INVALID_ARGS and "'stubdom'" in message, message
    assert checked > 60
    assert d.guests()["hvmconfig"]["state"] == "running"
    assert d.guests()["hvmconfig"]["stub_domid"] == guest["stub_domid"]
    still_serving(d)


# -- callers that vanish in the middle of an async call ---------------------------------------

def vanish_mid_call(host, d, name, path, iface, method, signature, args, pending):
    """A client sends the call and is killed while it is pending (`pending(guest)` true)."""
    job = {"job": "vanish", "path": path, "interface": iface, "method": method,
           "signature": signature, "args": args}
    p = client(host, job, stdin=subprocess.PIPE)
    assert p.stdout.readline().strip() == "sent", p.stderr.read()
    wait_for(lambda: pending(d.guests()[name]), interval=0.02,
             what=f"{method} of {name} to be under way")
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()


def one_stub_each(host, d):
    """Every guest runs with exactly the stub domain it lists, and no other *-dm exists."""
    guests = d.guests()
    for name in ("hvmconfig", "second"):
        assert guests[name]["state"] == "running", guests[name]
        assert host.domid(name + "-dm") == guests[name]["stub_domid"]
    stubs = [line.split()[0] for line in host.xl("list").stdout.splitlines()[1:]
             if line.split()[0].endswith("-dm")]
    assert sorted(stubs) == ["hvmconfig-dm", "second-dm"], stubs


UNDER_WAY = ("pending", "spawning", "linking", "starting")


@pytest.mark.parametrize("method", ["Start", "Restart", "Attach"])
def test_a_caller_vanishing_mid_call_does_not_stop_the_operation(env, method):
    host, d = env
    conn = connect(host)
    fds, rss = fd_count(d), rss_kib(d.proc.pid)
    guest = d.guests()["second"]
    old_stub = guest["stub_domid"]
    if method != "Restart":
        conn.call_blocking(BUS_NAME, guest["path"], GUEST, "Stop", "a{sv}", [sv()],
                           timeout=TIMEOUT)
        assert d.guests()["second"]["state"] == "stopped"
    if method == "Attach":
        call = (MANAGER_PATH, MANAGER, "Attach", "ua{sv}", [guest["domid"], {}])
    else:
        call = (guest["path"], GUEST, method, "a{sv}", [{}])
    vanish_mid_call(host, d, "second", *call,
                    pending=lambda g: g["state"] in UNDER_WAY and g["stub_domid"] != old_stub)
    # The operation completes for nobody; the reply to the vanished caller goes nowhere.
    d.wait_state("second", "running")
    assert d.guests()["second"]["stub_domid"] != old_stub
    one_stub_each(host, d)
    still_serving(d)
    assert_nothing_leaked(d, fds, rss)


# -- a caller that never reads its replies ----------------------------------------------------

def test_a_caller_that_never_reads_replies_does_not_hold_up_the_others(env):
    host, d = env
    flood(host, d, processes=1, count=20)  # warmup of the code paths used below
    fds, rss = fd_count(d), rss_kib(d.proc.pid)
    # 2000 calls whose errors the client never reads: far more than its socket buffer,
    # so the replies queue in the bus (not in stubdomd, which must keep serving).
    p = client(host, {"job": "no-read", "count": 2000, "size": 8192}, stdin=subprocess.PIPE)
    assert p.stdout.readline().strip() == "sent", p.stderr.read()
    results = flood(host, d, processes=2, count=50)
    for r in results:
        assert r["unexpected"] == [], r
    still_serving(d)
    p.stdin.close()
    wait_process(p, "the client that read nothing to exit", progress=host.activity)
    assert_nothing_leaked(d, fds, rss)
