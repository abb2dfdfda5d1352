"""Where stubdomd's resident memory goes per guest: RSS, the malloc heap and its free part
at 0, 100, 200 ... unmanaged guests on one simulated host, and optionally a heaptrack
recording of only the allocations made while the last step's guests appear.

Not a meson benchmark (it attaches gdb, and heaptrack when asked; both are investigation
tools, not dependencies). Prints key=value lines per step; asserts nothing about memory.

Per step, after the daemon lists every guest:
  rss_kib, rss_anon_kib, rss_file_kib   /proc/PID/status
  heap_rss_kib                          the [heap] mapping's Rss (the main malloc arena)
  other_anon_rss_kib                    anonymous mappings other than [heap] and stacks
  malloc_system_bytes, malloc_in_use_bytes   malloc_stats() (called through gdb)
  rss_after_trim_kib                    VmRSS after malloc_trim(0) called through gdb
  malloc_arenas, arenaN_system_bytes, arenaN_in_use_bytes   per arena (malloc_stats)
  largest_other_anon                    the three largest of those other mappings (KiB@address)
  threads, fds
Per-guest slopes are printed between the first and last steps.

Usage (from the source root, with the integration environment: XENSIM_BUILD, SOURCE_ROOT,
BUILD_ROOT for the stubdomd binary):
  bench_rss.py [STEPS...]   (default 0 100 200)
  STUBDOMD_BENCH_RSS_HEAPTRACK=FILE  run the daemon under heaptrack's preload library from its
                                     start (FILE.zst; `heaptrack_print -f FILE.zst` gives the
                                     peak by allocation site, i.e. at the last step)
"""

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

import dbus  # noqa: E402

from simhost import SimHost, cpu_ticks, wait_for  # noqa: E402
from stubdomd import EXAMPLES, Stubdomd  # noqa: E402

BUS_NAME = "org.xen.Stubdom"
MANAGER_PATH = "/org/xen/Stubdom"


def status(pid: int) -> dict:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        out[key] = value.split()[0] if value.split() else ""
    return out


def smaps(pid: int) -> dict:
    """Rss of [heap] and of the other anonymous mappings (KiB)."""
    heap = other = 0
    name = None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            name = fields[5] if len(fields) > 5 else ""
        elif fields[0] == "Rss:":
            if name == "[heap]":
                heap += int(fields[1])
            elif name == "" or name == "[anon]":
                other += int(fields[1])
    return {"heap_rss_kib": heap, "other_anon_rss_kib": other}


def largest_anon(pid: int) -> str:
    """The three largest anonymous mappings other than [heap] by Rss, 'KiB@start' each."""
    found, start, name = [], None, None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            start, name = fields[0].split("-")[0], (fields[5] if len(fields) > 5 else "")
        elif fields[0] == "Rss:" and name == "":
            found.append((int(fields[1]), start))
    return ",".join(f"{kib}@{at}" for kib, at in sorted(found, reverse=True)[:3])


def gdb_call(pid: int, expr: str):
    subprocess.run(["gdb", "-batch", "-n", "-p", str(pid), "-ex", f"call (void){expr}"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)


def malloc_stats(pid: int, log: Path) -> dict:
    """malloc_stats() writes to the daemon's stderr, its log: the last 'Total' block."""
    before = log.stat().st_size
    gdb_call(pid, "malloc_stats()")
    text = log.read_bytes()[before:].decode(errors="replace")
    m = re.search(r"Total \(incl\. mmap\):\s*system bytes\s*=\s*(\d+)\s*in use bytes\s*=\s*(\d+)",
                  text)
    arenas = re.findall(r"^Arena (\d+):\s*system bytes\s*=\s*(\d+)\s*in use bytes\s*=\s*(\d+)",
                        text, re.M)
    out = {"malloc_arenas": len(arenas)}
    if m:
        out.update({"malloc_system_bytes": int(m.group(1)),
                    "malloc_in_use_bytes": int(m.group(2))})
    # Per arena: the main one is [heap]; another is a thread's (libxenstore's watch reader).
    for number, system, in_use in arenas:
        out[f"arena{number}_system_bytes"] = int(system)
        out[f"arena{number}_in_use_bytes"] = int(in_use)
    return out


def sample(d: Stubdomd, with_trim: bool) -> dict:
    pid = d.proc.pid
    st = status(pid)
    out = {"rss_kib": int(st["VmRSS"]), "rss_anon_kib": int(st["RssAnon"]),
           "rss_file_kib": int(st["RssFile"]), "threads": int(st["Threads"]),
           "fds": len(os.listdir(f"/proc/{pid}/fd"))}
    out.update(smaps(pid))
    out["largest_other_anon"] = largest_anon(pid)
    out.update(malloc_stats(pid, d.log_file))
    if with_trim:
        gdb_call(pid, "malloc_trim(0)")
        out["rss_after_trim_kib"] = int(status(pid)["VmRSS"])
    return out


def main():
    steps = [int(s) for s in sys.argv[1:]] or [0, 100, 200]
    heaptrack = os.environ.get("STUBDOMD_BENCH_RSS_HEAPTRACK")
    with SimHost(total_mem_kib=(steps[-1] * 40 + 2048) * 1024) as host:
        conf = host.dir / "no-stub-configs"  # unmanaged guests: no stub domain is made
        conf.mkdir()
        env, tracer = {}, None
        if heaptrack:
            fifo = host.dir / "heaptrack.fifo"
            os.mkfifo(fifo)
            tracer = subprocess.Popen(
                f"/usr/lib/heaptrack/libexec/heaptrack_interpret < {fifo} | zstd -q -c > "
                f"{heaptrack}.zst", shell=True)
            env = {"LD_PRELOAD": f"{host.shim}:/usr/lib/heaptrack/libheaptrack_preload.so",
                   "DUMP_HEAPTRACK_OUTPUT": str(fifo)}
        with Stubdomd(host, config_dir=conf, env=env) as d:
            conn = dbus.bus.BusConnection(host.env["DBUS_SYSTEM_BUS_ADDRESS"])

            def listed():
                return len(conn.call_blocking(BUS_NAME, MANAGER_PATH, "org.xen.Stubdom.Manager",
                                              "ListGuests", "", [], timeout=120))

            def create(i):
                host.xl("create", EXAMPLES / "hvmconfig", f'name="u{i:04d}"', "memory=32")

            made = 0
            results = {}
            for n in steps:
                started = time.monotonic()
                with ThreadPoolExecutor(max_workers=3) as pool:
                    list(pool.map(create, range(made, n)))
                made = n
                wait_for(lambda: listed() == n, what=f"{n} guests listed",
                         progress=lambda: cpu_ticks(d.proc.pid))
                # Settled: the daemon's CPU stops moving (its reads of the new guests done).
                last = -1
                while cpu_ticks(d.proc.pid) != last:
                    last = cpu_ticks(d.proc.pid)
                    time.sleep(1.0)
                results[n] = sample(d, with_trim=True)
                la = os.getloadavg()
                print(f"guests={n} made_in_s={time.monotonic() - started:.1f} "
                      + " ".join(f"{k}={v}" for k, v in results[n].items())
                      + f" load={la[0]:.2f}", flush=True)
            conn.close()
            first, last = steps[0], steps[-1]
            if last > first:
                for key in results[last]:
                    if (key.endswith("_kib") or key.endswith("_bytes")) and key in results[first]:
                        scale = 1024 if key.endswith("_kib") else 1
                        per = (results[last][key] - results[first][key]) * scale / (last - first)
                        print(f"per_guest_bytes.{key}={per:.0f}", flush=True)
        if tracer:
            tracer.wait(timeout=300)


if __name__ == "__main__":
    main()
