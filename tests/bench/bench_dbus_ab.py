"""Two stubdomd binaries, A and B, taking turns on one simulated host: the daemon's own CPU
per ListGuests and per GetManagedObjects, for a before/after of a change in the daemon.

Not a meson benchmark (it needs two builds). dbus-api (bench_dbus.py) compares stubdomd with
other servers; this compares stubdomd with itself, on the same host and guests, in rounds
A B A B ... so that the shared machine's load weighs on both alike (one dbus-api run before
and one after a change are minutes apart, under different load). The host's N guests are
unmanaged (no stub domain), made once per size. Per round, each binary is started, asked
until it lists the N guests, warmed up, timed over STUBDOMD_BENCH_AB_CALLS ListGuests (default
300; a tenth as many GetManagedObjects) with its CPU from schedstat (ns), then stopped.
Printed per size and binary: the median over rounds of the CPU per call (and per guest) and
of the client medians, and B's CPU over A's. Asserts nothing about time.

Usage (from the source root, with the integration environment: XENSIM_BUILD, SOURCE_ROOT):
  bench_dbus_ab.py STUBDOMD-A STUBDOMD-B   (STUBDOMD_BENCH_AB_SIZES="200 500 1000",
                                            STUBDOMD_BENCH_AB_ROUNDS=3)
"""

import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import dbus  # noqa: E402

import stubdomd as stubdomd_module  # noqa: E402
from bench_dbus import BUS_NAME, MANAGER_PATH, TIMEOUT, Kind, load  # noqa: E402
from simhost import SimHost, wait_for  # noqa: E402
from stubdomd import EXAMPLES, Stubdomd  # noqa: E402


def measure(host: SimHost, conf: Path, binary: str, guests: int, calls: int) -> dict:
    stubdomd_module.STUBDOMD = Path(binary)  # read by Stubdomd.start
    with Stubdomd(host, config_dir=conf) as d:
        conn = dbus.bus.BusConnection(host.env["DBUS_SYSTEM_BUS_ADDRESS"])

        def call(interface, member):
            return lambda: conn.call_blocking(BUS_NAME, MANAGER_PATH, interface, member, "", [],
                                              timeout=TIMEOUT)
        list_guests = call("org.xen.Stubdom.Manager", "ListGuests")
        wait_for(lambda: len(list_guests()) == guests, what=f"{guests} guests listed")
        kinds = [Kind("ListGuests", d.proc.pid, list_guests, per_block=calls),
                 Kind("GetManagedObjects", d.proc.pid,
                      call("org.freedesktop.DBus.ObjectManager", "GetManagedObjects"),
                      per_block=max(10, calls // 10))]
        for k in kinds:
            k.block()
        conn.close()
        return {k.name: (k.cpu_per_call(), k.median()) for k in kinds}


def run(a: str, b: str, guests: int, rounds: int, calls: int):
    with SimHost(total_mem_kib=(guests * 40 + 2048) * 1024) as host:
        conf = host.dir / "no-stub-configs"
        conf.mkdir()
        started = time.monotonic()

        def create(i):
            host.xl("create", EXAMPLES / "hvmconfig", f'name="u{i:04d}"', "memory=32")
        with ThreadPoolExecutor(max_workers=3) as pool:
            list(pool.map(create, range(guests)))
        print(f"guests={guests} created_in_s={time.monotonic() - started:.1f} {load()}",
              flush=True)
        results = {"A": [], "B": []}
        for _ in range(rounds):
            for label, binary in (("A", a), ("B", b)):
                results[label].append(measure(host, conf, binary, guests, calls))
        print(f"guests={guests} rounds={rounds} {load()}", flush=True)
        for kind in ("ListGuests", "GetManagedObjects"):
            cpu = {}
            for label in ("A", "B"):
                cpus = [r[kind][0] for r in results[label]]
                cpu[label] = statistics.median(cpus)
                print(f"{label}.{kind} guests={guests} "
                      f"server_cpu_us_per_call={cpu[label] * 1e6:.0f} "
                      f"server_cpu_ns_per_guest={cpu[label] * 1e9 / guests:.0f} "
                      f"rounds_us={'/'.join(f'{c * 1e6:.0f}' for c in cpus)} "
                      f"client_median_us="
                      f"{statistics.median(r[kind][1] for r in results[label]) * 1e6:.0f}",
                      flush=True)
            print(f"{kind}_cpu_B_over_A_{guests}={cpu['B'] / cpu['A']:.2f}", flush=True)


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: bench_dbus_ab.py STUBDOMD-A STUBDOMD-B")
    rounds = int(os.environ.get("STUBDOMD_BENCH_AB_ROUNDS", "3"))
    calls = int(os.environ.get("STUBDOMD_BENCH_AB_CALLS", "300"))
    for n in os.environ.get("STUBDOMD_BENCH_AB_SIZES", "200 500 1000").split():
        run(sys.argv[1], sys.argv[2], int(n), rounds, calls)


if __name__ == "__main__":
    main()
