"""meson benchmark: what the simulated host costs per domain operation, at 10, 100 and
1000 domains (STUBDOMD_BENCH_SIM_SIZES="10 100 1000" changes the sizes).

For each size the host is filled with that many domains — half HVM guests, half PV
domains with a console, as stub domains are — and then, ROUNDS times, a
guest is created, listed and destroyed, and so is a PV domain (its console opened and
closed by the sim's xenconsoled). Each operation is one run of the sim's `xl`. Printed,
as key=value, medians over the rounds:

  sim_cpu_ms      CPU of the sim's own parts for the operation: the `xl` process (with
                  the shim's table code it runs) and the sim's xenconsoled — what this
                  benchmark watches: it must not grow with the number of domains
  xenstored_cpu_ms  CPU of Debian's xenstored serving the operation's requests
  wall_ms         the whole operation as a caller waits for it

(CPU figures are means: the kernel counts CPU in clock ticks of 10 ms, finer than one
operation only on average) and getinfo_ns: the CPU time of one xc_domain_getinfo through
the shim, as xenstored calls it for every
domain on each VIRQ, and xenstored_read_us / xenstored_write_us: xenstored's CPU per
request, REQUESTS reads or writes of one dom0-owned node on one connection (`xs-probe
repeat`). Then the ratios 1000/10 of sim_cpu_ms and getinfo_ns (close to 1: constant per
operation), and of xenstored_cpu_ms and wall_ms, which carry xenstored's own growth with
the number of domains (the real xenstored 4.17's, on a real dom0 too): every domain is a
connection of xenstored's, and xenstored 4.17 visits every connection on each request (its
main loop) and, for each node a request changes, reads the node and its parent for every
connection before it looks at that connection's watches (fire_watches, watch_permitted),
which the read/write pair separates. Nothing is asserted on timing.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from simhost import BUILD, SimHost, cpu_ticks  # noqa: E402

SOURCE_ROOT = Path(__file__).resolve().parents[2]
HVM = SOURCE_ROOT / "examples" / "hvmconfig"
ROUNDS = int(os.environ.get("STUBDOMD_BENCH_SIM_ROUNDS", "15"))
# Enough requests that the 10 ms clock tick is small beside xenstored's CPU for them.
REQUESTS = int(os.environ.get("STUBDOMD_BENCH_SIM_REQUESTS", "2000"))
TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")


def pv_config(host: SimHost) -> Path:
    cfg = host.dir / "pv.cfg"
    cfg.write_text('type = "pv"\nmemory = 32\nkernel = "/usr/lib/xen/boot/ioemu-stubdom.gz"\n')
    return cfg


class Meter:
    """CPU of this process's finished children (the xl runs), of xenstored and of the
    sim's xenconsoled, and wall time, around one operation."""

    def __init__(self, host: SimHost):
        self.xenstored = host.daemon_pid("xenstored")
        self.consoled = host.daemon_pid("consoled")
        self.samples: dict[str, dict[str, list[float]]] = {}

    def _now(self):
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (time.monotonic(), (kids.ru_utime + kids.ru_stime) * 1000.0,
                cpu_ticks(self.xenstored) * TICK_MS, cpu_ticks(self.consoled) * TICK_MS)

    def run(self, op: str, host: SimHost, *args):
        before = self._now()
        r = subprocess.run(["xl", *map(str, args)], env=host.env, capture_output=True,
                           text=True)
        after = self._now()
        if r.returncode != 0:
            raise AssertionError(f"xl {' '.join(map(str, args))}: {r.stderr}")
        s = self.samples.setdefault(op, {"wall_ms": [], "sim_cpu_ms": [],
                                         "xenstored_cpu_ms": []})
        s["wall_ms"].append((after[0] - before[0]) * 1000.0)
        s["sim_cpu_ms"].append((after[1] - before[1]) + (after[3] - before[3]))
        s["xenstored_cpu_ms"].append(after[2] - before[2])


def per_request_us(host: SimHost, kind: str) -> float:
    """xenstored's CPU per request: REQUESTS of one kind on one connection."""
    xenstored = host.daemon_pid("xenstored")
    before = cpu_ticks(xenstored)
    subprocess.run([BUILD / "xs-probe", "repeat", kind, "/tool/bench-sim", str(REQUESTS)],
                   env=host.env, check=True, capture_output=True)
    return (cpu_ticks(xenstored) - before) * TICK_MS * 1000.0 / REQUESTS


def measure(size: int) -> dict[str, float]:
    with SimHost(total_mem_kib=(size + 64) * 40 * 1024) as host:
        pv = pv_config(host)
        started = time.monotonic()
        for i in range(size):
            if i % 2:
                subprocess.run(["xl", "create", "-q", "-p", pv, f'name="fill{i}"'], env=host.env,
                               check=True, capture_output=True)
            else:
                subprocess.run(["xl", "create", "-q", HVM, f'name="fill{i}"', "memory=32"],
                               env=host.env, check=True, capture_output=True)
        fill_s = time.monotonic() - started
        meter = Meter(host)
        for r in range(ROUNDS):
            meter.run("create", host, "create", "-q", HVM, f'name="probe{r}"', "memory=32")
            meter.run("list_one", host, "list", f"probe{r}")
            meter.run("destroy", host, "destroy", f"probe{r}")
            meter.run("create_pv", host, "create", "-q", "-p", pv, f'name="pvprobe{r}"')
            meter.run("destroy_pv", host, "destroy", f"pvprobe{r}")
        walk = subprocess.run([BUILD / "xc-probe", "walk", str(max(20, 200000 // (size + 1)))],
                              check=True, text=True,
                              capture_output=True,
                              env={**host.env, "LD_PRELOAD": str(host.shim)}).stdout
        figures = {"fill_ms_per_domain": fill_s * 1000.0 / max(size, 1),
                   "getinfo_ns": float(walk.split("ns_per_call=")[1])}
        # The write first: the read needs the node.
        figures["xenstored_write_us"] = per_request_us(host, "write")
        figures["xenstored_read_us"] = per_request_us(host, "read")
        for op, kinds in meter.samples.items():
            for kind, values in kinds.items():
                average = statistics.median if kind == "wall_ms" else statistics.mean
                figures[f"{op}_{kind}"] = average(values)
        return figures


def main():
    sizes = [int(s) for s in os.environ.get("STUBDOMD_BENCH_SIM_SIZES", "10 100 1000").split()]
    results = {}
    for n in sizes:
        figures = measure(n)
        results[n] = figures
        print(f"domains={n} " + " ".join(f"{k}={v:.3f}" if "ns" not in k else f"{k}={v:.0f}"
                                          for k, v in figures.items()), flush=True)
    small, large = min(results), max(results)
    if small != large:
        ratios = {k: results[large][k] / results[small][k] for k in results[small]
                  if results[small][k] > 0 and k != "fill_ms_per_domain"}
        print(f"ratio_{large}_to_{small}: " +
              " ".join(f"{k}={v:.2f}" for k, v in sorted(ratios.items())), flush=True)


if __name__ == "__main__":
    main()
