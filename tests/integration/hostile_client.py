"""A hostile D-Bus client of stubdomd, run as a separate process (its own connection,
possibly as another user) by test_dbus_hostile.py; this file holds no tests.

    hostile_client.py ADDRESS JOB_JSON

Jobs (JSON objects, key "job"):
  flood    {"count": N, "guest": PATH, "start_error": NAME}
           N rounds of ListGuests, GetGuest of a name that does not exist, Properties.Get
           and GetAll on the guest and on the manager, and Start on the guest (which must
           fail with start_error). Prints {"calls": n, "answers": {name: count},
           "unexpected": [...]} where a success counts as "ok".
  deny     {"count": N, "guest": PATH, "domid": D}
           N rounds of every mutating method (Attach, Reload, Start, Stop, Restart,
           SetDisplay, SetDisplayPassword). Prints {"answers": {"Method: name": count}}.
  vanish   {"path": P, "interface": I, "method": M, "signature": S, "args": [...]}
           sends one call with a reply expected, prints "sent" and waits for stdin to
           close, never reading the reply (the test kills it mid-call).
  no-read  {"count": N, "size": BYTES}
           sends N GetGuest calls with names of BYTES bytes, never reads a reply, prints
           "sent" and waits for stdin to close.
"""

import json
import sys

import dbus
import dbus.lowlevel

BUS_NAME = "org.xen.Stubdom"
MANAGER_PATH = "/org/xen/Stubdom"
MANAGER = "org.xen.Stubdom.Manager"
GUEST = "org.xen.Stubdom.Guest"
PROPS = "org.freedesktop.DBus.Properties"
TIMEOUT = 120


def flood(conn, job):
    answers: dict[str, int] = {}
    unexpected: list[str] = []
    calls = 0

    def call(path, iface, method, signature, args, expect):
        nonlocal calls
        calls += 1
        try:
            conn.call_blocking(BUS_NAME, path, iface, method, signature, args, timeout=TIMEOUT)
            got = "ok"
        except dbus.exceptions.DBusException as e:
            got = e.get_dbus_name()
        answers[got] = answers.get(got, 0) + 1
        if got != expect and len(unexpected) < 10:
            unexpected.append(f"{method}: {got}, expected {expect}")

    guest = job["guest"]
    for i in range(job["count"]):
        call(MANAGER_PATH, MANAGER, "ListGuests", "", [], "ok")
        call(MANAGER_PATH, MANAGER, "GetGuest", "s", [f"no-such-guest-{i}"],
             "org.xen.Stubdom.Error.NoSuchGuest")
        call(guest, PROPS, "Get", "ss", [GUEST, "State"], "ok")
        call(guest, PROPS, "GetAll", "s", [GUEST], "ok")
        call(MANAGER_PATH, PROPS, "GetAll", "s", [MANAGER], "ok")
        call(guest, GUEST, "Start", "a{sv}", [dbus.Dictionary({}, signature="sv")],
             job["start_error"])
    return {"calls": calls, "answers": answers, "unexpected": unexpected}


def deny(conn, job):
    """Every mutating method, `count` times each; each must be AccessDenied."""
    sv = dbus.Dictionary({}, signature="sv")
    guest = job["guest"]
    calls = [(MANAGER_PATH, MANAGER, "Attach", "ua{sv}", [dbus.UInt32(job["domid"]), sv]),
             (MANAGER_PATH, MANAGER, "Reload", "", []),
             (guest, GUEST, "Start", "a{sv}", [sv]),
             (guest, GUEST, "Stop", "a{sv}", [sv]),
             (guest, GUEST, "Restart", "a{sv}", [sv]),
             (guest, GUEST, "SetDisplay", "sa{sv}", ["none", sv]),
             (guest, GUEST, "SetDisplayPassword", "s", ["secret"])]
    answers: dict[str, int] = {}
    for _ in range(job["count"]):
        for path, iface, method, signature, args in calls:
            try:
                conn.call_blocking(BUS_NAME, path, iface, method, signature, args,
                                   timeout=TIMEOUT)
                got = "ok"
            except dbus.exceptions.DBusException as e:
                got = e.get_dbus_name()
            key = f"{method}: {got}"
            answers[key] = answers.get(key, 0) + 1
    return {"answers": answers}


def method_call(path, iface, method, signature, args):
    message = dbus.lowlevel.MethodCallMessage(BUS_NAME, path, iface, method)
    message.append(*args, signature=signature)
    return message


def wait_for_stdin_to_close():
    print("sent", flush=True)
    sys.stdin.read()


def main():
    conn = dbus.bus.BusConnection(sys.argv[1])
    job = json.loads(sys.argv[2])
    if job["job"] == "flood":
        print(json.dumps(flood(conn, job)), flush=True)
    elif job["job"] == "deny":
        print(json.dumps(deny(conn, job)), flush=True)
    elif job["job"] == "vanish":
        args = [dbus.Dictionary(a, signature="sv") if isinstance(a, dict) else a
                for a in job["args"]]
        args = [dbus.UInt32(a) if isinstance(a, int) else a for a in args]
        conn.send_message(method_call(job["path"], job["interface"], job["method"],
                                      job["signature"], args))
        conn.flush()
        wait_for_stdin_to_close()
    elif job["job"] == "no-read":
        for i in range(job["count"]):
            conn.send_message(method_call(MANAGER_PATH, MANAGER, "GetGuest", "s",
                                          [str(i) + "x" * job["size"]]))
        conn.flush()
        wait_for_stdin_to_close()
    else:
        raise SystemExit(f"unknown job {job['job']}")


if __name__ == "__main__":
    main()
