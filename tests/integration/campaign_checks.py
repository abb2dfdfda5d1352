"""The end checks of the fault campaign (test_campaign.py): what the host and stubdomd
look like, read from the domain table (the hypervisor's view), xenstore and D-Bus, and
what stubdomd's process holds (/proc)."""

from __future__ import annotations

import collections
import os
import re
from pathlib import Path

from simhost import SimHost, cpu_ticks, rss_kib, wait_for

HVM, PAUSED, DYING, SHUTDOWN = 0x1, 0x2, 0x4, 0x8


def xenstore_tree(host: SimHost, root: str = "/local/domain") -> dict[str, str]:
    """Every node under root with its value, in one xenstore-ls call."""
    r = host.run("xenstore-ls", "-f", root, check=True)
    tree = {}
    for line in r.stdout.splitlines():
        path, sep, value = line.partition(" = ")
        if sep:
            tree[path] = value.strip().strip('"')
    return tree


def host_snapshot(host: SimHost, d, stubbed: set[str]) -> dict:
    table = host.table()
    live = {info["name"]: domid for domid, info in table.items()
            if domid != 0 and info["flags"] & HVM and not info["flags"] & (DYING | SHUTDOWN)}
    stubs = {domid: info for domid, info in table.items()
             if domid != 0 and not info["flags"] & HVM}
    guests = d.guests()
    states = collections.Counter(
        guests[n]["state"] if n in guests else "not listed" for n in live)
    return {"table": table, "live": live, "stubs": stubs, "guests": guests, "states": states,
            "tree": xenstore_tree(host)}


def failure_kinds(d, snap: dict) -> dict[str, int]:
    """The StateReasons of the failed live guests, with names and numbers taken out."""
    kinds: collections.Counter = collections.Counter()
    for name in snap["live"]:
        entry = snap["guests"].get(name)
        if entry and entry["state"] == "failed":
            reason = d.prop(entry["path"], "StateReason")
            reason = re.sub(r"/\S+/", "…/", reason.replace(name, "N"))
            kinds[re.sub(r"\d+(\.\d+)?", "#", reason)[:100]] += 1
    return dict(kinds.most_common())


def settle_problems(host: SimHost, d, stubbed: set[str], helper_program: Path) -> list[str]:
    """Everything that is not as it must be once the host has settled; [] when all is."""
    snap = host_snapshot(host, d, stubbed)
    table, live, stubs, guests, tree = (snap[k] for k in ("table", "live", "stubs", "guests",
                                                          "tree"))
    problems = []
    by_target = collections.defaultdict(list)
    for domid, info in stubs.items():
        if info["target"] is not None:
            by_target[info["target"]].append(domid)
    named = collections.defaultdict(list)
    for domid, info in table.items():
        named[info["name"]].append(domid)

    for name, g in sorted(live.items()):
        entry = guests.get(name)
        own_stubs = sorted(set(by_target.get(g, [])) | set(named.get(f"{name}-dm", [])))
        if name not in stubbed:
            if entry and entry["state"] != "unmanaged":
                problems.append(f"{name} ({g}) has no stub config but is {entry['state']}")
            if own_stubs:
                problems.append(f"{name} ({g}) has no stub config but stub domains {own_stubs}")
            continue
        if not entry or entry["domid"] != g:
            problems.append(f"{name} ({g}) is live but stubdomd lists {entry}")
            continue
        state = entry["state"]
        if state == "running":
            s = entry["stub_domid"]
            if own_stubs != [s]:
                problems.append(f"{name} ({g}) runs with stub {s} but the host has {own_stubs}")
                continue
            if table[s]["flags"] & (DYING | SHUTDOWN) or table[s]["target"] != g:
                problems.append(f"{name} ({g}): its stub {s} is {table[s]}")
            if tree.get(f"/local/domain/{g}/image/device-model-domid") != str(s):
                problems.append(f"{name} ({g}): image/device-model-domid is "
                                f"{tree.get(f'/local/domain/{g}/image/device-model-domid')}")
            if tree.get(f"/local/domain/{s}/target") != str(g):
                problems.append(f"{name} ({g}): /local/domain/{s}/target is "
                                f"{tree.get(f'/local/domain/{s}/target')}")
            if "running" not in (tree.get(f"/local/domain/{s}/device-model/{g}/state"),
                                 tree.get(f"/local/domain/0/device-model/{g}/state")):
                problems.append(f"{name} ({g}): stub {s}'s device model is not running")
        elif state == "failed":
            reason = d.prop(entry["path"], "StateReason")
            if not reason:
                problems.append(f"{name} ({g}) is failed without a reason")
            if own_stubs:
                problems.append(f"{name} ({g}) is failed but has stub domains {own_stubs}")
        else:
            problems.append(f"{name} ({g}) is {state}")

    # No stub domain without its guest, linked or not.
    live_domids = set(live.values())
    for domid, info in sorted(stubs.items()):
        guest_name = info["name"][:-3] if info["name"].endswith("-dm") else None
        if info["target"] is not None and info["target"] not in live_domids:
            problems.append(f"orphan stub domain {domid} ({info['name']}): its guest "
                            f"{info['target']} is gone")
        elif info["target"] is None and guest_name is not None:
            problems.append(f"unlinked stub domain {domid} ({info['name']})")
    # Nothing listed that is not there.
    for name, entry in guests.items():
        if live.get(name) != entry["domid"]:
            problems.append(f"stubdomd lists {name} ({entry['domid']}, {entry['state']}), "
                            f"which the host does not have")

    # The sim at rest: a domain still booting may yet crash (a fault's crash comes N ms
    # after its unpause), after the checks; the checks wait for its life to play out.
    booting = sorted(domid for domid, info in table.items() if info["booting"])
    if booting:
        problems.append(f"domains still booting (their simulated life is still to come): "
                        f"{booting}")

    kids = children_of(d.proc.pid)
    helpers = [k for k in kids if str(helper_program) in k[2] and k[1] != "Z"]
    if len(helpers) != 1 or len(kids) != 1:
        problems.append(f"children of stubdomd besides its one helper: {kids}")
    return problems


def children_of(pid: int) -> list[tuple[int, str, str]]:
    """(pid, state letter, command line) of every child of `pid`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        if fields.get("PPid") == str(pid):
            found.append((int(entry), fields.get("State", "?")[:1], cmdline.strip()))
    return found


def fd_kinds(pid: int) -> dict[str, int]:
    """stubdomd's open fds by kind: pipe, pidfd, socket, signalfd, timerfd, file …, and
    the two a stub domain's console log holds while the stub lives: its pty (console pty)
    and its qemu-dm-<guest>.log (console log)."""
    kinds: collections.Counter = collections.Counter()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            link = os.readlink(f"{fd_dir}/{fd}")
        except OSError:
            continue
        if link.startswith("/dev/pts/"):
            kinds["console pty"] += 1
        elif os.path.basename(link).startswith("qemu-dm-") and link.endswith(".log"):
            kinds["console log"] += 1
        elif link.startswith("anon_inode:"):
            kinds[link[len("anon_inode:"):].strip("[]")] += 1
        elif ":" in link and link.endswith("]"):
            kinds[link.split(":", 1)[0]] += 1
        else:
            kinds["file"] += 1
    return dict(sorted(kinds.items()))


CONSOLE_KINDS = ("console pty", "console log")


def own_fds(kinds: dict[str, int]) -> int:
    """The fds the daemon holds for itself, not for a live stub domain's console."""
    return sum(n for k, n in kinds.items() if k not in CONSOLE_KINDS)


def live_stubs(snap: dict) -> int:
    return sum(1 for info in snap["stubs"].values() if not info["flags"] & (DYING | SHUTDOWN))


def resources_when_only_helpers(pid: int, helper_program: Path):
    """(fd count, RSS KiB, fds by kind) at a moment when the daemon's only children
    are its helpers (no xl in flight, whose pidfd and pipes would count) and its fds
    stay the same for a while (not in the middle of reading a config file). Nothing new
    is asked of it meanwhile, so such a moment comes once its work in flight is done,
    however slowly; None if none came in the stall window."""
    previous: list = [None]
    found: list = [None]

    def quiet():
        before = children_of(pid)
        kinds = fd_kinds(pid)
        rss = rss_kib(pid)
        # Consistent: the same children around the reads, each with its one pidfd.
        if (before == children_of(pid) and kinds.get("pidfd", 0) == len(before)
                and all(str(helper_program) in k[2] for k in before)):
            if previous[0] == kinds:
                found[0] = (sum(kinds.values()), rss, kinds)
            previous[0] = kinds
        else:
            previous[0] = None
        return found[0]
    try:
        return wait_for(quiet, what="a moment with only the helpers as children",
                        progress=lambda: cpu_ticks(pid))
    except AssertionError:
        return None


def guest_objects(d) -> list[str]:
    """The org.xen.Stubdom guest objects on the bus."""
    r = d.busctl("tree", "--list", "org.xen.Stubdom")
    if r.returncode != 0:
        raise AssertionError(f"busctl tree failed: {r.stderr}")
    return [p for p in r.stdout.split() if p.startswith("/org/xen/Stubdom/guest/")]


