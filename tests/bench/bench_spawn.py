"""meson benchmark: the cost of a boot storm on the simulated host.

For 1, 20, 200 and 1000 guests created at once (STUBDOMD_BENCH_SPAWN_SIZES changes the
sizes) it prints the xenstore requests stubdomd made per guest (counted from xenstored's
-T trace), the time from the last guest's creation to its stub domain running, and how
long the whole storm took: creating the guests, and until every guest's stub domain ran.
Requests per guest must not grow with the number of guests: that is the design's promise
that one domain event costs one list call and a constant number of reads. The 1-guest
line is the README's guest alone (what a test once bounded at 2 s); the 200- and
1000-guest lines are how fast a storm comes up, which no test asserts.
"""

import os
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from simhost import SimHost, wait_for  # noqa: E402
from stubdomd import EXAMPLES, Stubdomd  # noqa: E402


def stubdomd_requests(trace: Path) -> int:
    """IN lines of stubdomd's connection: the one that watches @introduceDomain with a
    token its store adapter made ("w<id>", daemon/xen/XenStore.cpp). Connection addresses
    are reused, so count until it is gone."""
    conn, count = None, 0
    for line in trace.read_text(errors="replace").splitlines():
        if conn is None:
            if line.startswith("IN ") and re.search(r"WATCH \(@introduceDomain w\d+ ", line):
                conn, count = line.split()[1], 1
            continue
        if line.startswith(f"IN {conn} "):
            count += 1
        elif line == f"DESTROY connection {conn}":
            break
    return count


# xenstored's trace (one line per request, with its data) of a storm grows with the
# square of the guests (every listing of /local/domain names them all): 4.8 GB by 500
# domains, and xenstored writes it as it serves. Requests are counted up to this many
# guests; larger storms run without the trace.
TRACE_MAX = int(os.environ.get("STUBDOMD_BENCH_SPAWN_TRACE_MAX", "200"))


def run(guests: int) -> dict[str, float]:
    traced = guests <= TRACE_MAX
    trace = Path("/tmp") / f"stubdomd-bench-{guests}.trace"
    try:
        return storm(guests, trace if traced else None)
    finally:
        trace.unlink(missing_ok=True)


def storm(guests: int, trace: Path | None) -> dict[str, float]:
    # Room for every guest (32 MiB and its video memory) and its stub domain (32 MiB).
    with SimHost(trace=trace, total_mem_kib=(guests * 80 + 2048) * 1024) as host:
        d = Stubdomd(host, settings={"max_parallel_spawns": 4})
        stub = (EXAMPLES / "stubdom-hvmconfig").read_text()
        names = [f"b{i:03d}" for i in range(guests)]
        for n in names:
            d.write_config_dir_file(f"stubdom-{n}", stub)
        with d:
            baseline = stubdomd_requests(trace) if trace else 0
            began = time.monotonic()
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
            wait_for(lambda: running() == guests, interval=0.2, progress=running,
                     what="every guest running")
            done = time.monotonic()
            requests = stubdomd_requests(trace) - baseline if trace else float("nan")
        return {"xenstore_requests_per_guest": requests / guests,
                "last_guest_created_to_stub_running_ms": latency * 1000,
                "create_all_s": created - began, "all_stubs_running_s": done - began}


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [
        int(n) for n in os.environ.get("STUBDOMD_BENCH_SPAWN_SIZES", "1 20 200 1000").split()]
    results = {}
    for n in sizes:
        figures = run(n)
        results[n] = figures["xenstore_requests_per_guest"]
        print(f"guests={n} " + " ".join(f"{k}={v:.1f}" for k, v in figures.items()), flush=True)
    # One guest is no storm; an untraced storm has no count.
    counted = {n: r for n, r in results.items() if n >= 20 and r == r}
    if len(counted) > 1:
        small, large = counted[min(counted)], counted[max(counted)]
        print(f"requests_per_guest_growth={large / small:.2f}x "
              f"({min(counted)} → {max(counted)} guests)")


if __name__ == "__main__":
    main()
