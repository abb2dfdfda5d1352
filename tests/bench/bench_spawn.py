"""meson benchmark: the cost of a boot storm on the simulated host.

For 20 and for 200 guests created at once it prints the xenstore requests stubdomd
made per guest (counted from xenstored's -T trace) and the time from the last guest's
creation to its stub domain running. Requests per guest must not grow with the number
of guests: that is the design's promise that one domain event costs one list call and
a constant number of reads.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from simhost import SimHost, wait_for  # noqa: E402
from stubdomd import EXAMPLES, Stubdomd  # noqa: E402


def stubdomd_requests(trace: Path) -> int:
    """IN lines of stubdomd's connection: the one that watches @introduceDomain with
    the token "domains". Connection addresses are reused, so count until it is gone."""
    conn, count = None, 0
    for line in trace.read_text(errors="replace").splitlines():
        if conn is None:
            if line.startswith("IN ") and "WATCH (@introduceDomain domains" in line:
                conn, count = line.split()[1], 1
            continue
        if line.startswith(f"IN {conn} "):
            count += 1
        elif line == f"DESTROY connection {conn}":
            break
    return count


def run(guests: int) -> tuple[float, float]:
    with SimHost(trace=Path("/tmp") / f"stubdomd-bench-{guests}.trace",
                 total_mem_kib=64 * 1024 * 1024) as host:
        trace = Path("/tmp") / f"stubdomd-bench-{guests}.trace"
        d = Stubdomd(host, settings={"max_parallel_spawns": 4, "start_timeout_ms": 120000})
        stub = (EXAMPLES / "stubdom-hvmconfig").read_text()
        names = [f"b{i:03d}" for i in range(guests)]
        for n in names:
            d.write_config_dir_file(f"stubdom-{n}", stub)
        with d:
            baseline = stubdomd_requests(trace)
            for n in names:
                host.xl("create", EXAMPLES / "hvmconfig", f'name="{n}"', "memory=32")
            created = time.monotonic()
            last = names[-1]
            # Poll the stub's own state key: cheaper and finer-grained than D-Bus.
            wait_for(lambda: d.guests().get(last, {}).get("state") == "running",
                     timeout=600, interval=0.01, what=f"{last} running")
            latency = time.monotonic() - created
            wait_for(lambda: sum(g["state"] == "running" for g in d.guests().values()) == guests,
                     timeout=600, interval=0.2, what="every guest running")
            requests = stubdomd_requests(trace) - baseline
        trace.unlink(missing_ok=True)
        return requests / guests, latency


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [20, 200]
    results = {}
    for n in sizes:
        per_guest, latency = run(n)
        results[n] = per_guest
        print(f"guests={n} xenstore_requests_per_guest={per_guest:.1f} "
              f"last_guest_created_to_stub_running_ms={latency * 1000:.0f}", flush=True)
    if len(results) > 1:
        small, large = results[min(results)], results[max(results)]
        print(f"requests_per_guest_growth={large / small:.2f}x "
              f"({min(results)} → {max(results)} guests)")


if __name__ == "__main__":
    main()
