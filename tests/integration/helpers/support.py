"""Shared pieces of the helper supervisor's integration tests (test_helpers_*.py,
test_exports*.py): the test programs in this directory, the Helper objects over
busctl, and the checks that nothing is left behind."""

from __future__ import annotations

import json
import os
from pathlib import Path

from simhost import wait_for

HERE = Path(__file__).resolve().parent
CRASH_AT_ONCE = HERE / "crash-at-once"
IGNORE_SIGTERM = HERE / "ignore-sigterm"
RUN_FINE = HERE / "run-fine"
HELPER = "org.xen.Stubdom.Helper"


def helper(name: str, program, starts_file, **keys) -> dict:
    """A `helpers` entry of stubdomd.json running one of the test programs; each start
    is recorded in `starts_file`, which also makes the process findable by its path."""
    return {"name": name, "path": str(program), "args": [str(starts_file)], **keys}


def path_of(name: str) -> str:
    return "/org/xen/Stubdom/helper/" + name.replace("-", "_")


def prop(d, name: str, prop: str):
    r = d.busctl("--json=short", "get-property", "org.xen.Stubdom", path_of(name), HELPER, prop)
    if r.returncode != 0:
        raise AssertionError(f"get-property {name}.{prop}: {r.stderr}")
    return json.loads(r.stdout)["data"]


def call(d, name: str, method: str, user=None):
    return d.busctl("--timeout=60", "call", "org.xen.Stubdom", path_of(name), HELPER, method,
                    user=user)


def wait_state(d, name: str, state: str, timeout: float = 30.0):
    try:
        wait_for(lambda: prop(d, name, "State") == state, timeout=timeout,
                 what=f"helper {name} to be {state}")
    except Exception:
        raise AssertionError(f"helper {name} never became {state} (is {prop(d, name, 'State')})"
                             f"\n--- stubdomd log ---\n{d.log()}")


def starts(starts_file) -> list[float]:
    p = Path(starts_file)
    return [float(x) for x in p.read_text().split()] if p.exists() else []


def fd_count(d) -> int:
    return len(os.listdir(f"/proc/{d.proc.pid}/fd"))


def _status(pid: int) -> dict:
    fields = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    except OSError:
        pass
    return fields


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, state letter) of every child of `pid`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            status = _status(int(entry))
            if status.get("PPid") == str(pid):
                found.append((int(entry), status.get("State", "?")[:1]))
    return found


def processes_running(token: str) -> list[int]:
    """Live processes whose command line mentions `token` (a test's own temp path)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if token in cmdline and _status(int(entry)).get("State", "Z")[:1] != "Z":
            found.append(int(entry))
    return found


def settled_fd_count(d, expected: int) -> int:
    """The daemon's fd count once it settles at `expected` (a child's pipe closes a
    moment after its pidfd reports); the last count seen if it never does."""
    seen = []
    try:
        wait_for(lambda: seen.append(fd_count(d)) or seen[-1] == expected,
                 what="the fd count to settle")
    except Exception:
        pass
    return seen[-1]


def no_zombie(d):
    """A child that just ended is a zombie until the loop reads its pidfd: give it time."""
    def none():
        return not [c for c in children(d.proc.pid) if c[1] == "Z"]
    try:
        wait_for(none, what="no zombie")
    except Exception:
        raise AssertionError(f"zombie children of stubdomd: {children(d.proc.pid)}")
