"""meson benchmark: a guest's whole life on the simulated host, in xenstore requests and time.

For 1, 20 and 200 guests (STUBDOMD_BENCH_SPAWN_SIZES="500 1000" for the issue's larger
sizes; a 1000-guest storm is bounded by xenstored 4.17's own cost per request, which grows
with the number of domains: sim-scale's xenstored_read_us / xenstored_write_us) it prints,
as key=value lines, asserting nothing about time:

- `requests_per_guest=`: the xenstore requests stubdomd made per guest over the whole life of
  the guests (discovery, spawn, link, running, teardown after `xl destroy` of each guest),
  counted from xenstored's -T trace, with `requests_spawn_per_guest=` (up to every stub
  running), `requests_minimum=` (REQUESTS_MINIMUM below, counted by hand from DESIGN.md
  section 4) and `requests_ratio=`; `requests_per_guest_growth=` from the smallest storm to
  the largest traced one;
- the boot storm: `storm_s=`, from the first guest's `xl create` to the last stub domain
  running, next to `plain_script_s=`, the same `xl create`s (each guest's, and its stub
  domain's `xl create -p` and `xl unpause` in a pool of max_parallel_spawns workers) run by a
  plain script with no daemon, and `storm_ratio=`. The stub's simulated boot takes no time
  in both (boot_delay_ms 0), so the difference is the daemon's own work: noticing, linking,
  waiting for `running`. The plain script cannot link (it has no set_target), so its stubs
  never report running: its time ends when its last `xl` returns. Both run without
  xenstored's trace: a traced xenstored 4.17 writes a line for every domain's connection on
  each request it serves (its write-rate-limit check, `wrl:`), so its trace costs it time in
  proportion to the number of domains and would swamp the figures (a 100-guest storm: 75 s
  traced, 29 s untraced). The request count comes from a storm of its own, traced, up to
  TRACE_MAX guests (`traced_storm_s=` is its time). Beyond it (the trace grows with the
  square of the guests) the requests are counted from stubdomd's side instead
  (`requests_counted_by=strace`): strace records its writes on its xenstored connection,
  where each request begins with a 16-byte header written on its own. A size that runs one
  storm (the default above 200 guests: one takes minutes) counts in it, and its time
  figures then include strace's cost on the daemon's system calls (small beside
  xenstored's at that size: the daemon's CPU is a few percent of xenstored's); with more
  rounds the count has a storm of its own. A small storm is over in well under a
  second (20 guests: ~0.4 s), where one scheduling hiccup moves a single ratio by 0.2, so
  each size runs ROUNDS pairs of storm and plain script, one after the other, and prints
  the pair whose ratio is the median, with `storm_ratio_min=`/`storm_ratio_max=` over the
  pairs (`rounds=`).
  Beside each, xenstored's CPU over it (`xenstored_cpu_s=`, `plain_xenstored_cpu_s=`): at
  large sizes a storm waits on xenstored, whose cost per request grows with the domains
  (sim-scale), and the daemon's own requests are what the storm adds to it;
- `rss_kib_<N>=`: stubdomd's VmRSS with every stub running;
- the reaction (one guest, REACTION_ROUNDS times, medians): from the start of the guest's
  `xl create` to stubdomd's `xl create` of its stub starting (a wrapper around xl stamps it)
  and to a bare `xenstore-watch @introduceDomain` client's wake-up on the same event;
  `reaction_ratio=` is their ratio and `reaction_beyond_watcher_ms=` their difference (the
  daemon's own reaction, an upper bound: xenstored has no finer clock to start from).

The 1-minute load average is printed beside each size: one run on a shared 2-core machine.
"""

import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from simhost import SimHost, cpu_ticks, rss_kib, wait_for  # noqa: E402
from stubdomd import EXAMPLES, Stubdomd  # noqa: E402

PARALLEL = 4  # max_parallel_spawns, for the daemon and the plain script alike

# The protocol's minimum of xenstore requests on stubdomd's connection for one HVM guest
# with an ioemu stub domain, over its life (DESIGN.md section 4). Domain lists are
# hypercalls (xc_domain_getinfolist), watch events are no requests, and what xl does runs
# on xl's own connections.
REQUESTS_MINIMUM_PARTS = {
    # Discovery: XS_IS_DOMAIN_INTRODUCED (libxl has finished writing the guest); GET_PERMS of
    # `target` (absent: not a stub domain; one request answers "exists?" and "whose?");
    # GET_PERMS and READ of `name` and of `vm` (trust: act only on dom0-owned nodes).
    "discovery": 1 + 1 + 2 + 2,
    # Never two device models: GET_PERMS of image/device-model-pid (absent).
    "device_model_check": 1,
    # Spawn: `xl create -p` names the stub's domid; our own new stub domain is known by it,
    # so its @introduceDomain costs nothing.
    "spawn": 0,
    # Link (step 4): SET_TARGET; WRITE /local/domain/s/target; WRITE
    # /local/domain/g/image/device-model-domid; MKDIR + SET_PERMS of
    # /local/domain/s/device-model/g and of /local/domain/0/device-model/g; WRITE +
    # SET_PERMS of /vm/U/image/dmargs. (New nodes inherit their parent's permissions, which
    # libxl made dom0's and readable by the domain: target and device-model-domid need none.)
    "link": 1 + 1 + 1 + 2 + 2 + 2,
    # The stub's console log (qemu-dm-<guest>.log): GET_PERMS and READ of
    # /local/domain/s/console/tty, which xenconsoled wrote when xl created the stub.
    "console": 2,
    # Running (step 5): WATCH both state paths before `xl unpause` (their registration
    # events need no read: nothing runs yet), GET_PERMS and READ when the stub writes
    # `running`, UNWATCH both.
    "wait_running": 2 + 1 + 1 + 2,
    # Teardown: RM /local/domain/0/device-model/g (libxl's destroy removes the guest's
    # /local/domain/g and /vm/U, and with them device-model-domid and dmargs).
    "teardown": 1,
}
REQUESTS_MINIMUM = sum(REQUESTS_MINIMUM_PARTS.values())

# xenstored's trace (one line per request, with its data) of a storm grows with the
# square of the guests (every listing of /local/domain names them all): 4.8 GB by 500
# domains, and xenstored writes it as it serves. Requests are counted up to this many
# guests; larger storms run without the trace.
TRACE_MAX = int(os.environ.get("STUBDOMD_BENCH_SPAWN_TRACE_MAX", "200"))
REACTION_ROUNDS = 7


def rounds(guests: int) -> int:
    """Storm/plain-script pairs per size: many where a storm is short and noisy, one where a
    storm takes minutes (STUBDOMD_BENCH_SPAWN_ROUNDS sets it for every size)."""
    if "STUBDOMD_BENCH_SPAWN_ROUNDS" in os.environ:
        return max(1, int(os.environ["STUBDOMD_BENCH_SPAWN_ROUNDS"]))
    return 7 if guests <= 20 else 3 if guests <= 200 else 1


def load() -> str:
    return "load_average={:.2f}/{:.2f}/{:.2f}".format(*os.getloadavg())


def stubdomd_requests(trace: Path) -> int:
    """IN lines of stubdomd's connection: the one that watches @introduceDomain with a
    token its store adapter made ("w<id>", daemon/xen/XenStore.cpp). Connection addresses
    are reused, so count until it is gone."""
    conn, count = None, 0
    with trace.open(errors="replace") as lines:
        for line in lines:
            line = line.rstrip("\n")
            if conn is None:
                if line.startswith("IN ") and re.search(r"WATCH \(@introduceDomain w\d+ ", line):
                    conn, count = line.split()[1], 1
                continue
            if line.startswith(f"IN {conn} "):
                count += 1
            elif line == f"DESTROY connection {conn}":
                break
    return count


def xenstore_fd(pid: int, socket_path: Path) -> int:
    """The descriptor of the process's connection to the xenstored listening at
    socket_path: its peer is one of the sockets xenstored accepted there (ss -x names a
    socket's own path and inode, and its peer's inode)."""
    lines = subprocess.run(["ss", "-xpnH"], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    rows = [line.split() for line in lines]
    # Netid State Recv-Q Send-Q Local Port Peer Port Process
    accepted = {r[5] for r in rows if len(r) >= 8 and r[4] == str(socket_path)}
    for r in rows:
        if len(r) >= 9 and r[7] in accepted:
            m = re.search(rf'"stubdomd",pid={pid},fd=(\d+)', r[8])
            if m:
                return int(m.group(1))
    raise AssertionError(f"no connection of {pid} to {socket_path} in ss -x")


class StraceRequestCounter:
    """stubdomd's xenstore requests, counted from its side (see the module's docstring)."""

    def __init__(self, host: SimHost, pid: int, out: Path):
        self.pid, self.out = pid, out
        self.fd = xenstore_fd(pid, Path(host.env["XENSTORED_PATH"]))
        self.proc = subprocess.Popen(
            ["strace", "-f", "-p", str(pid), "-e", "trace=write", "-e", "signal=none",
             "-qq", "-s", "4", "-xx", "-o", str(out)], stderr=subprocess.DEVNULL)
        tasks = Path(f"/proc/{pid}/task")

        def attached():
            return all(re.search(r"^TracerPid:\s+[1-9]", (t / "status").read_text(), re.M)
                       for t in tasks.iterdir())
        wait_for(attached, interval=0.05, what="strace attached to every thread of stubdomd")
        # A header: type, request id, transaction id and length, little-endian u32s; a
        # type is below 0x20, where a body (a path, a value, a token) starts printable.
        # A call cut by another thread's is printed in two halves ("<unfinished ...>", then
        # "<... write resumed>"): the first holds the header, and counts.
        self.header = re.compile(rf'^(\d+ +)?write\({self.fd}, "\\x[01][0-9a-f]\\x00\\x00'
                                 rf'\\x00"\.\.\., 16')

    def count(self) -> int:
        with self.out.open(errors="replace") as lines:
            return sum(1 for line in lines if self.header.match(line))

    def stop(self):
        self.proc.send_signal(signal.SIGINT)  # detaches
        self.proc.wait()


def xenstored_cpu_s(host: SimHost) -> float:
    """Debian's xenstored's CPU time so far: what a large storm waits on (its cost per
    request grows with the number of domains, sim-scale), beside the storm's wall time."""
    pid = host.daemon_pid("xenstored")
    return cpu_ticks(pid) / os.sysconf("SC_CLK_TCK")


def stub_config(host: SimHost) -> Path:
    """What the plain script creates for each stub domain: the example's stub config with
    what stubdomd's generated one adds (name, extra, memory given on the command line)."""
    path = host.dir / "plain-stubdom"
    path.write_text((EXAMPLES / "stubdom-hvmconfig").read_text() +
                    'type = "pv"\non_poweroff = "destroy"\non_reboot = "destroy"\n'
                    'on_crash = "destroy"\n')
    return path


def plain_script(guests: int) -> tuple[float, float]:
    """The same `xl create`s with no daemon: each guest in turn, and for each its stub
    domain (`xl create -p`, `xl unpause`) in a pool of PARALLEL, as a script would.
    Returns its time and xenstored's CPU over it."""
    with SimHost(total_mem_kib=(guests * 80 + 2048) * 1024, boot_delay_ms=0) as host:
        cfg = stub_config(host)
        names = [f"b{i:03d}" for i in range(guests)]

        def stub(name: str):
            domid = host.domid(name)
            host.xl("create", "-p", cfg, f'name="{name}-dm"', "memory=32",
                    f'extra="-d {domid}"')
            host.xl("unpause", f"{name}-dm")
        began, xenstored_began = time.monotonic(), xenstored_cpu_s(host)
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            futures = []
            for n in names:
                host.xl("create", EXAMPLES / "hvmconfig", f'name="{n}"', "memory=32")
                futures.append(pool.submit(stub, n))
            for f in futures:
                f.result()
        return time.monotonic() - began, xenstored_cpu_s(host) - xenstored_began


def storm(guests: int, trace: Path | None = None,
          strace_out: Path | None = None) -> dict[str, float]:
    """One storm; stubdomd's xenstore requests counted by xenstored's trace (`trace`), or
    from the daemon's side by strace (`strace_out`), or not at all."""
    # Room for every guest (32 MiB and its video memory) and its stub domain (32 MiB).
    with SimHost(trace=trace, total_mem_kib=(guests * 80 + 2048) * 1024,
                 boot_delay_ms=0) as host:
        d = Stubdomd(host, settings={"max_parallel_spawns": PARALLEL})
        stub = (EXAMPLES / "stubdom-hvmconfig").read_text()
        names = [f"b{i:03d}" for i in range(guests)]
        for n in names:
            d.write_config_dir_file(f"stubdom-{n}", stub)
        with d:
            baseline = stubdomd_requests(trace) if trace else 0
            counter = StraceRequestCounter(host, d.proc.pid, strace_out) if strace_out else None

            def requests() -> float:
                if trace:
                    return stubdomd_requests(trace) - baseline
                return counter.count() if counter else float("nan")
            began, xenstored_began = time.monotonic(), xenstored_cpu_s(host)
            for n in names:
                host.xl("create", EXAMPLES / "hvmconfig", f'name="{n}"', "memory=32")
            created = time.monotonic()
            last = names[-1]
            state = [None]

            def last_running():
                state[0] = d.guests().get(last, {}).get("state")
                return state[0] == "running"
            # Polled often: the figure is this latency.
            wait_for(last_running, interval=0.01, progress=lambda: state[0], backoff=False,
                     what=f"{last} running")
            latency = time.monotonic() - created

            def running():
                return sum(g["state"] == "running" for g in d.guests().values())
            # Polled often too: the last stub's running ends the storm.
            wait_for(lambda: running() == guests, interval=0.02, progress=running,
                     backoff=False, what="every guest running")
            done = time.monotonic()
            xenstored_storm = xenstored_cpu_s(host) - xenstored_began
            rss = rss_kib(d.proc.pid)
            spawned = requests()
            for n in names:
                host.xl("destroy", n)
            wait_for(lambda: not d.guests(), progress=lambda: len(d.guests()),
                     what="every guest gone from stubdomd")
            # Its stub domains destroyed too: only dom0 left.
            wait_for(lambda: len(host.table()) == 1, progress=lambda: len(host.table()),
                     what="every stub domain destroyed")
            whole = requests()
            if counter:
                counter.stop()
        return {"requests_spawn_per_guest": spawned / guests,
                "requests_per_guest": whole / guests,
                "last_guest_created_to_stub_running_ms": latency * 1000,
                "create_all_s": created - began, "storm_s": done - began,
                "xenstored_cpu_s": xenstored_storm,
                f"rss_kib_{guests}": rss}


def reaction() -> dict[str, float]:
    """One guest at a time: its `xl create` start to stubdomd's `xl create` of its stub, and
    to a bare xenstore-watch's wake-up on @introduceDomain."""
    with SimHost(boot_delay_ms=0) as host:
        stamps = host.dir / "xl-stamps"
        wrapper = host.dir / "xl-stamped"
        # The daemon's toolstack: stamps each command (wall clock, as time.time()) first.
        wrapper.write_text(f'#!/bin/sh\necho "$(date +%s.%N) $*" >>{stamps}\n'
                           f'exec {host.build / "xl"} "$@"\n')
        wrapper.chmod(0o755)
        d = Stubdomd(host, settings={"toolstack": str(wrapper)})
        wakes: list[float] = []
        watcher = host.spawn("xenstore-watch", "@introduceDomain", stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, bufsize=1)

        def read():
            for _ in watcher.stdout:
                wakes.append(time.time())
        threading.Thread(target=read, daemon=True).start()
        daemon_ms, watcher_ms = [], []
        with d:
            wait_for(lambda: len(wakes) >= 1, what="xenstore-watch registered")
            for i in range(REACTION_ROUNDS):
                name = f"r{i}"
                d.write_config_dir_file(f"stubdom-{name}", (EXAMPLES / "stubdom-hvmconfig")
                                        .read_text())
                seen = len(wakes)
                t0 = time.time()
                host.xl("create", EXAMPLES / "hvmconfig", f'name="{name}"', "memory=32")
                d.wait_state(name, "running")
                # The stamps are cleared each round: the first `create` is its stub's.
                stamp = next(float(line.split()[0]) for line in stamps.read_text().splitlines()
                             if " create " in f" {line} ")
                daemon_ms.append((stamp - t0) * 1000)
                watcher_ms.append((wakes[seen] - t0) * 1000)
                host.xl("destroy", name)
                wait_for(lambda: name not in d.guests(), what=f"{name} gone")
                stamps.write_text("")
        d_med, w_med = statistics.median(daemon_ms), statistics.median(watcher_ms)
        return {"reaction_stubdomd_ms": d_med, "reaction_bare_watcher_ms": w_med,
                "reaction_ratio": d_med / w_med, "reaction_beyond_watcher_ms": d_med - w_med}


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [
        int(n) for n in os.environ.get("STUBDOMD_BENCH_SPAWN_SIZES", "1 20 200").split()]
    print(f"requests_minimum={REQUESTS_MINIMUM} (" +
          " + ".join(f"{k} {v}" for k, v in REQUESTS_MINIMUM_PARTS.items()) + ")", flush=True)
    results = {}
    for n in sizes:
        pairs = []
        counted = None
        # Beyond TRACE_MAX the requests are counted from the daemon's side: in the one storm
        # when there is one (a storm of many minutes), else in a storm of their own, so that
        # strace's cost stays out of the timed pairs.
        strace_out = Path("/tmp") / f"stubdomd-bench-{n}.strace" if n > TRACE_MAX else None
        try:
            for _ in range(rounds(n)):
                count_here = strace_out if rounds(n) == 1 else None
                figures = storm(n, strace_out=count_here)
                if count_here:
                    counted = figures
                pairs.append((figures, plain_script(n)))
            if strace_out and counted is None:
                counted = storm(n, strace_out=strace_out)
        finally:
            if strace_out:
                strace_out.unlink(missing_ok=True)
        ratios = [f["storm_s"] / plain for f, (plain, _) in pairs]
        # The pair whose ratio is the median gives every figure of the storm and the script.
        median_round = sorted(range(len(pairs)), key=lambda i: ratios[i])[len(pairs) // 2]
        figures = dict(pairs[median_round][0])
        if n > TRACE_MAX:
            figures["requests_counted_by"] = "strace"
        else:
            trace = Path("/tmp") / f"stubdomd-bench-{n}.trace"
            try:
                counted = storm(n, trace)
            finally:
                trace.unlink(missing_ok=True)
            figures["traced_storm_s"] = counted["storm_s"]
        for k in ("requests_spawn_per_guest", "requests_per_guest"):
            figures[k] = counted[k]
        figures["rounds"] = len(pairs)
        # The median pair's own figures, so that storm_s / plain_script_s is storm_ratio.
        plain, plain_cpu = pairs[median_round][1]
        figures["plain_script_s"] = plain
        figures["plain_xenstored_cpu_s"] = plain_cpu
        figures["storm_ratio"] = ratios[median_round]
        figures["storm_ratio_min"] = min(ratios)
        figures["storm_ratio_max"] = max(ratios)
        figures["requests_ratio"] = figures["requests_per_guest"] / REQUESTS_MINIMUM
        results[n] = figures["requests_per_guest"]
        print(f"guests={n} {load()} " + " ".join(
            f"{k}={v}" if isinstance(v, str) else
            f"{k}={v:.0f}" if k.startswith(("rss", "rounds")) else f"{k}={v:.2f}"
            for k, v in figures.items()), flush=True)
    # One guest is no storm; an untraced storm has no count.
    counted = {n: r for n, r in results.items() if n >= 20 and r == r}
    if len(counted) > 1:
        small, large = counted[min(counted)], counted[max(counted)]
        print(f"requests_per_guest_growth={large / small:.2f} "
              f"({min(counted)} → {max(counted)} guests)", flush=True)
    figures = reaction()
    print(f"{load()} " + " ".join(f"{k}={v:.2f}" for k, v in figures.items()), flush=True)


if __name__ == "__main__":
    main()
