"""meson benchmark: the cost of the D-Bus API with 500 guests (issue 4).

On the simulated host, stubdomd lists 500 guests. They are created without stub-domain
configurations, so they are *unmanaged* guests: listed, exported and announced like any
other, but no stub domain is spawned (spawning 500 with the fake xl would take long and
measure xl, not D-Bus). Then python-dbus, on one connection, times four kinds of call
to the same daemon — org.freedesktop.DBus.Peer.Ping, Manager.ListGuests,
ObjectManager.GetManagedObjects and Properties.Get of one guest's State, 2,500 each in
blocks of 50 that take turns — and prints the median and p99 of each as a ratio to Ping's (Ping answers without reaching our
code: the ratio is the daemon's own cost, with the client's python overhead on both
sides). Because the client's decoding of a big reply weighs in the ratio, it also
prints the daemon's own CPU time per call of each kind (from /proc/PID/stat, in clock
ticks summed over all blocks of a kind), and the daemon's VmRSS before and after those 10,000 calls (plus one untimed
call per block).

Prints one line per figure; asserts nothing about time.
Arguments: [guests] [calls of each kind] (default 500 and 2500).
"""

import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

import dbus  # noqa: E402

from simhost import SimHost, wait_for  # noqa: E402
from stubdomd import EXAMPLES, Stubdomd  # noqa: E402

BUS_NAME = "org.xen.Stubdom"
MANAGER_PATH = "/org/xen/Stubdom"
BLOCK = 50


def vm_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """The process's user + system CPU time (clock ticks, usually 10 ms)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    guests = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    per_kind = int(sys.argv[2]) if len(sys.argv) > 2 else 2500
    # 32 MiB per guest; the default 4 GiB host holds about a hundred.
    with SimHost(total_mem_kib=64 * 1024 * 1024) as host:
        conf = host.dir / "no-stub-configs"
        conf.mkdir()
        with Stubdomd(host, config_dir=conf) as d:
            names = [f"u{i:03d}" for i in range(guests)]
            started = time.monotonic()

            def create(name):
                host.xl("create", EXAMPLES / "hvmconfig", f'name="{name}"', "memory=32")
            # A few xl at once: the sim's xl locks its domain table and uses transactions.
            with ThreadPoolExecutor(max_workers=3) as pool:
                list(pool.map(create, names))
            conn = dbus.bus.BusConnection(host.env["DBUS_SYSTEM_BUS_ADDRESS"])

            def list_guests():
                return conn.call_blocking(BUS_NAME, MANAGER_PATH, "org.xen.Stubdom.Manager",
                                          "ListGuests", "", [], timeout=120)
            rows = wait_for(lambda: len(list_guests()) == guests and list_guests(), timeout=600,
                            interval=0.5, what=f"{guests} guests listed")
            print(f"guests={guests} unmanaged (created without stub configs: listed, "
                  f"exported, no stub domain) created_in_s={time.monotonic() - started:.1f}",
                  flush=True)
            assert all(str(r[2]) == "unmanaged" for r in rows)
            path = str(rows[0][5])

            calls = {
                "Ping": lambda: conn.call_blocking(BUS_NAME, MANAGER_PATH,
                                                   "org.freedesktop.DBus.Peer", "Ping", "", [],
                                                   timeout=120),
                "ListGuests": list_guests,
                "GetManagedObjects": lambda: conn.call_blocking(
                    BUS_NAME, MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
                    "GetManagedObjects", "", [], timeout=120),
                "PropertyGet": lambda: conn.call_blocking(
                    BUS_NAME, path, "org.freedesktop.DBus.Properties", "Get", "ss",
                    ["org.xen.Stubdom.Guest", "State"], timeout=120),
            }
            assert len(calls["GetManagedObjects"]()) >= guests  # warm-up, and a check
            for call in calls.values():
                call()
            pid = d.proc.pid
            rss_before = vm_rss_kib(pid)
            samples: dict[str, list[float]] = {name: [] for name in calls}
            daemon_cpu: dict[str, float] = {name: 0.0 for name in calls}
            # Blocks of BLOCK calls of one kind, the kinds taking turns, so that a burst
            # of load on the machine hits every kind alike. Each block starts with one
            # untimed call: the call right after a GetManagedObjects reply (150 KB) is
            # slow for any destination, the bus daemon's own GetId included, so it
            # would measure the previous block, not this one.
            total = 0
            for _ in range(max(1, per_kind // BLOCK)):
                for name, call in calls.items():
                    call()
                    total += 1
                    cpu0 = cpu_seconds(pid)
                    for _ in range(BLOCK):
                        t0 = time.perf_counter()
                        call()
                        samples[name].append(time.perf_counter() - t0)
                    daemon_cpu[name] += cpu_seconds(pid) - cpu0
                    total += BLOCK
            rss_after = vm_rss_kib(pid)
            untimed = total - sum(len(v) for v in samples.values())

            ping_median = statistics.median(samples["Ping"])
            ping_p99 = percentile(samples["Ping"], 99)
            print(f"Ping median_us={ping_median * 1e6:.0f}", flush=True)
            print(f"Ping p99_us={ping_p99 * 1e6:.0f}", flush=True)
            for name in calls:
                print(f"{name} stubdomd_cpu_us_per_call="
                      f"{daemon_cpu[name] / len(samples[name]) * 1e6:.0f}", flush=True)
            for name in ("ListGuests", "GetManagedObjects", "PropertyGet"):
                median = statistics.median(samples[name])
                p99 = percentile(samples[name], 99)
                print(f"{name} median_ratio_to_ping={median / ping_median:.2f} "
                      f"(median_us={median * 1e6:.0f})", flush=True)
                print(f"{name} p99_ratio_to_ping={p99 / ping_p99:.2f} "
                      f"(p99_us={p99 * 1e6:.0f}; {p99 / ping_median:.1f}x Ping's median)",
                      flush=True)
            print(f"stubdomd VmRSS_before_kib={rss_before} (after {guests} guests)", flush=True)
            print(f"stubdomd VmRSS_after_kib={rss_after} (after {total} more calls, {untimed} of them untimed; "
                  f"growth {rss_after - rss_before:+d} KiB)", flush=True)
            assert d.proc.poll() is None, "stubdomd died during the benchmark"
            conn.close()


if __name__ == "__main__":
    main()
