"""meson benchmark: the D-Bus API's cost beside the floor of the bus and beside libvirt-dbus.

On the simulated host, stubdomd lists N guests (20 and 200; STUBDOMD_BENCH_DBUS_SIZES="500
1000" for the issue's sizes). They are created without stub-domain configurations, so they
are *unmanaged* guests: listed, exported and announced like any other, but no stub domain is
spawned (that would measure xl, not D-Bus). On the same bus, with the same policy, run:

- the floor (tests/bench/dbus_floor.cpp): a minimal sd-bus server that answers ListGuests
  and GetManagedObjects with the replies it captured from this stubdomd (same content and
  size), decoded once and appended value by value to each reply: what marshalling that
  reply costs with sd-bus, nothing else;
- the peer: Debian's libvirt-dbus (--system) with libvirt's test:///default driver holding
  the same number of domains (its own "test" domain and N-1 created through
  DomainCreateXML). Its comparable calls: Connect.ListDomains for ListGuests, a
  Properties.Get of one domain's Name for one of a guest's State, and "every domain with its
  properties" the only way libvirt-dbus allows (no ObjectManager): ListDomains, then
  Properties.GetAll of each domain, for GetManagedObjects.

One python-dbus connection times every kind of call in blocks that take turns (so a burst of
load on the shared machine hits every kind alike; each block starts with one untimed call),
and prints per kind the median and p99, the server's own CPU time per call and the bus's
(dbus-daemon's), both from /proc/PID/task/*/schedstat (nanoseconds; utime+stime's 10 ms
ticks are too coarse for calls of tens of microseconds), summed over its blocks; and the
ratios: `*_ratio_to_floor=` and `*_ratio_to_libvirt_dbus=` (client-seen medians) with the
CPU ratios beside them. Ping of each server is the bus's round trip. stubdomd's VmRSS before
and after the calls. The 1-minute load average is printed beside every size: the figures are
one run on a shared 2-core machine.

What bounds a list call as the client sees it: for ListGuests (stubdomd and the floor) and
libvirt-dbus's ListDomains, the round trip (libdbus has the whole reply) apart from
python-dbus decoding it, the client's own CPU for each (time.thread_time: unlike the
medians, it does not grow with the machine's load), and the reply body's size in bytes. `ListWithState_ratio_to_
libvirt_dbus=` compares ListGuests with the least a libvirt-dbus client needs for the same
answer (each guest's path and state): ListDomains, then GetState of each domain.

libvirt-dbus missing: its figures are skipped, and a line says why. Asserts nothing about
time. STUBDOMD_BENCH_DBUS_CALLS sets the timed calls per kind (default 500).
Argument: the floor server's executable (meson passes it).
"""

import os
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

import dbus  # noqa: E402
import dbus.lowlevel  # noqa: E402

from simhost import SimHost, cpu_ticks, rss_kib, wait_for  # noqa: E402
from stubdomd import EXAMPLES, Stubdomd  # noqa: E402

BUS_NAME = "org.xen.Stubdom"
FLOOR_NAME = "org.xen.StubdomFloor"
MANAGER_PATH = "/org/xen/Stubdom"
LIBVIRT_NAME = "org.libvirt"
LIBVIRT_TEST = "/org/libvirt/Test"
LIBVIRT_DBUS = "/usr/sbin/libvirt-dbus"
BLOCK = 50
TIMEOUT = 600  # a reply's timeout: 1000 guests on a loaded machine; nothing is timed by it


def cpu_seconds(pid: int) -> float:
    """CPU time of every thread of pid, in seconds, with the scheduler's nanosecond count
    (/proc/PID/task/*/schedstat): utime+stime come in 10 ms ticks, too coarse for a call
    that costs tens of microseconds. Falls back to the ticks without schedstats."""
    total, seen = 0, False
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0
    for task in tasks:
        try:
            total += int(Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()[0])
            seen = True
        except (OSError, IndexError, ValueError):
            pass
    return total / 1e9 if seen else cpu_ticks(pid) / os.sysconf("SC_CLK_TCK")


def body_bytes(signature: str, values) -> int:
    """The marshalled size of a message body (D-Bus specification, "Marshaling"), for
    the types the compared replies use: s o g u i b y t x d, structs and arrays."""
    size = 0

    def align(n: int):
        nonlocal size
        size += -size % n

    def one(sig: str, i: int, value) -> int:  # returns the index after the type at sig[i]
        nonlocal size
        c = sig[i]
        if c in "so":
            align(4)
            size += 4 + len(str(value).encode()) + 1
            return i + 1
        if c == "g":
            size += 1 + len(str(value).encode()) + 1
            return i + 1
        fixed = {"y": 1, "b": 4, "u": 4, "i": 4, "t": 8, "x": 8, "d": 8}
        if c in fixed:
            align(fixed[c])
            size += fixed[c]
            return i + 1
        if c == "(":
            align(8)
            j = i + 1
            for item in value:
                j = one(sig, j, item)
            return j + 1
        if c == "a":
            end = skip(sig, i + 1)
            align(4)
            size += 4
            align(8 if sig[i + 1] in "(txd{" else 1)
            for item in value:
                one(sig, i + 1, item)
            return end
        raise ValueError(f"body_bytes: type {c!r} not handled")

    def skip(sig: str, i: int) -> int:
        if sig[i] == "a":
            return skip(sig, i + 1)
        if sig[i] in "({":
            depth, j = 0, i
            while True:
                depth += {"(": 1, "{": 1, ")": -1, "}": -1}.get(sig[j], 0)
                j += 1
                if depth == 0:
                    return j
        return i + 1

    i = 0
    for value in values:
        i = one(signature, i, value)
    return size


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def load() -> str:
    return "load_average={:.2f}/{:.2f}/{:.2f}".format(*os.getloadavg())


class Kind:
    """One kind of call to one server: its samples and the server's CPU over them."""

    def __init__(self, name: str, pid: int, call, per_block: int = BLOCK):
        self.name, self.pid, self.call, self.per_block = name, pid, call, per_block
        self.samples: list[float] = []
        self.cpu = 0.0
        self.bus_pid = 0  # the bus's dbus-daemon: its share of each call, when set
        self.bus_cpu = 0.0

    def block(self):
        self.call()  # untimed: the previous block's big reply must not weigh on this one
        cpu0 = cpu_seconds(self.pid)
        bus0 = cpu_seconds(self.bus_pid) if self.bus_pid else 0.0
        for _ in range(self.per_block):
            t0 = time.perf_counter()
            self.call()
            self.samples.append(time.perf_counter() - t0)
        self.cpu += cpu_seconds(self.pid) - cpu0
        if self.bus_pid:
            self.bus_cpu += cpu_seconds(self.bus_pid) - bus0

    def median(self) -> float:
        return statistics.median(self.samples)

    def cpu_per_call(self) -> float:
        return self.cpu / len(self.samples)

    def report(self):
        print(f"{self.name} median_us={self.median() * 1e6:.0f} "
              f"p99_us={percentile(self.samples, 99) * 1e6:.0f} "
              f"server_cpu_us_per_call={self.cpu_per_call() * 1e6:.0f} "
              f"bus_cpu_us_per_call={self.bus_cpu / len(self.samples) * 1e6:.0f} "
              f"calls={len(self.samples)}", flush=True)


def ratio(name: str, a: Kind, b: Kind):
    # CPU is counted in clock ticks (10 ms) over all of a kind's calls: a server that used
    # less than one tick has no ratio.
    cpu = (f"{a.cpu_per_call() / b.cpu_per_call():.2f}" if b.cpu > 0
           else "n/a (below one clock tick)")
    print(f"{name}={a.median() / b.median():.2f} cpu_{name}={cpu} ({a.name} vs {b.name})",
          flush=True)


def split(conn, name: str, target, calls: int):
    """Where a list call's client-seen time goes: the round trip (the call sent, the server's
    work, the reply's bytes back in libdbus) apart from python-dbus decoding the reply into
    Python values; and the reply body's size. target: (dest, path, interface, member,
    signature, args)."""
    trips, decodes = [], []
    trip_cpu = decode_cpu = 0.0  # the client's own CPU (this thread: libdbus, python-dbus)
    args = None
    for _ in range(calls):
        msg = dbus.lowlevel.MethodCallMessage(*target[:4])
        if target[4]:
            msg.append(*target[5], signature=target[4])
        c0, t0 = time.thread_time(), time.perf_counter()
        reply = conn.send_message_with_reply_and_block(msg, TIMEOUT)
        c1, t1 = time.thread_time(), time.perf_counter()
        args = reply.get_args_list()
        decodes.append(time.perf_counter() - t1)
        trips.append(t1 - t0)
        decode_cpu += time.thread_time() - c1
        trip_cpu += c1 - c0
    size = body_bytes(reply.get_signature(), args)
    print(f"{name} round_trip_median_us={statistics.median(trips) * 1e6:.0f} "
          f"decode_median_us={statistics.median(decodes) * 1e6:.0f} "
          f"client_cpu_us_per_call={trip_cpu / calls * 1e6:.0f} (receiving) + "
          f"{decode_cpu / calls * 1e6:.0f} (decoding) reply_body_bytes={size} "
          f"items={len(args[0])}", flush=True)


def start_ready(host: SimHost, argv, what: str):
    proc = host.spawn(*argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    if line.strip() != "ready":
        raise AssertionError(f"{what} did not start: {line}{proc.stdout.read()}")
    return proc


def libvirt_dbus(host: SimHost, conn, guests: int):
    """libvirt-dbus on the host's bus holding `guests` test domains, or None with a reason
    printed."""
    if not Path(LIBVIRT_DBUS).exists():
        print(f"libvirt_dbus=skipped reason={LIBVIRT_DBUS} is missing "
              f"(scripts/install-deps --bench installs libvirt-dbus)", flush=True)
        return None
    log = open(host.dir / "libvirt-dbus.log", "w")
    proc = host.spawn(LIBVIRT_DBUS, "--system", stdout=log, stderr=subprocess.STDOUT)
    log.close()

    def owned():
        return proc.poll() is not None or conn.name_has_owner(LIBVIRT_NAME)
    wait_for(owned, what="libvirt-dbus to own org.libvirt", progress=lambda: cpu_ticks(proc.pid))
    if proc.poll() is not None:
        print(f"libvirt_dbus=skipped reason=it exited with {proc.returncode}: "
              f"{(host.dir / 'libvirt-dbus.log').read_text()[-500:]!r}", flush=True)
        return None
    for i in range(guests - 1):  # test:///default starts with its own domain "test"
        xml = (f"<domain type='test'><name>v{i:04d}</name><memory>32768</memory>"
               f"<os><type>hvm</type></os></domain>")
        conn.call_blocking(LIBVIRT_NAME, LIBVIRT_TEST, "org.libvirt.Connect", "DomainCreateXML",
                           "su", [xml, 0], timeout=TIMEOUT)
    return proc


def run(floor_exe: str, guests: int, per_kind: int):
    # 32 MiB per guest; the default 4 GiB host holds about a hundred.
    with SimHost(total_mem_kib=(guests * 40 + 2048) * 1024) as host:
        conf = host.dir / "no-stub-configs"
        conf.mkdir()
        with Stubdomd(host, config_dir=conf) as d:
            names = [f"u{i:04d}" for i in range(guests)]
            started = time.monotonic()
            # Making the guests is most of a run at 1000: xenstored's share of it is
            # printed (its cost per domain grows with the domains, issue 15).
            xenstored = host.daemons()[0]
            xenstored_cpu = cpu_seconds(xenstored)

            def create(name):
                host.xl("create", EXAMPLES / "hvmconfig", f'name="{name}"', "memory=32")
            # A few xl at once: the sim's xl locks its domain table and uses transactions.
            with ThreadPoolExecutor(max_workers=3) as pool:
                list(pool.map(create, names))
            conn = dbus.bus.BusConnection(host.env["DBUS_SYSTEM_BUS_ADDRESS"])

            def call(name, path, interface, member, signature="", args=()):
                return lambda: conn.call_blocking(name, path, interface, member, signature,
                                                  list(args), timeout=TIMEOUT)
            list_guests = call(BUS_NAME, MANAGER_PATH, "org.xen.Stubdom.Manager", "ListGuests")
            rows = wait_for(lambda: len(list_guests()) == guests and list_guests(),
                            what=f"{guests} guests listed")
            print(f"guests={guests} unmanaged (listed and exported, no stub domain) "
                  f"created_in_s={time.monotonic() - started:.1f} xenstored_cpu_s="
                  f"{cpu_seconds(xenstored) - xenstored_cpu:.1f} {load()}", flush=True)
            assert all(str(r[2]) == "unmanaged" for r in rows)
            path = str(rows[0][5])

            floor = start_ready(host, [floor_exe, FLOOR_NAME, BUS_NAME, MANAGER_PATH],
                                "the floor server")
            libvirt = libvirt_dbus(host, conn, guests)
            pid = d.proc.pid
            om = "org.freedesktop.DBus.ObjectManager"
            kinds = [
                Kind("stubdomd.Ping", pid,
                     call(BUS_NAME, MANAGER_PATH, "org.freedesktop.DBus.Peer", "Ping")),
                Kind("stubdomd.ListGuests", pid, list_guests),
                Kind("stubdomd.GetManagedObjects", pid,
                     call(BUS_NAME, MANAGER_PATH, om, "GetManagedObjects")),
                Kind("stubdomd.PropertyGet", pid,
                     call(BUS_NAME, path, "org.freedesktop.DBus.Properties", "Get", "ss",
                          ["org.xen.Stubdom.Guest", "State"])),
                Kind("floor.Ping", floor.pid,
                     call(FLOOR_NAME, MANAGER_PATH, "org.freedesktop.DBus.Peer", "Ping")),
                Kind("floor.ListGuests", floor.pid,
                     call(FLOOR_NAME, MANAGER_PATH, "org.xen.Stubdom.Manager", "ListGuests")),
                Kind("floor.GetManagedObjects", floor.pid,
                     call(FLOOR_NAME, MANAGER_PATH, om, "GetManagedObjects")),
            ]
            by = {k.name: k for k in kinds}
            # The floor rebuilt stubdomd's replies from what it decoded: the same answers.
            assert len(by["floor.ListGuests"].call()) == guests
            assert by["floor.ListGuests"].call() == by["stubdomd.ListGuests"].call()
            assert by["floor.GetManagedObjects"].call() == by["stubdomd.GetManagedObjects"].call()
            if libvirt:
                list_domains = call(LIBVIRT_NAME, LIBVIRT_TEST, "org.libvirt.Connect",
                                    "ListDomains", "u", [0])
                domains = list_domains()
                assert len(domains) == guests, f"libvirt-dbus lists {len(domains)} domains"
                props = "org.freedesktop.DBus.Properties"

                def every_domain():
                    return {p: conn.call_blocking(LIBVIRT_NAME, p, props, "GetAll", "s",
                                                  ["org.libvirt.Domain"], timeout=TIMEOUT)
                            for p in list_domains()}
                def every_state():
                    return [conn.call_blocking(LIBVIRT_NAME, p, "org.libvirt.Domain",
                                               "GetState", "u", [0], timeout=TIMEOUT)
                            for p in list_domains()]
                # One "every domain" call is guests+1 round trips: fewer per block.
                kinds += [
                    Kind("libvirt.Ping", libvirt.pid,
                         call(LIBVIRT_NAME, LIBVIRT_TEST, "org.freedesktop.DBus.Peer", "Ping")),
                    Kind("libvirt.ListDomains", libvirt.pid, list_domains),
                    Kind("libvirt.PropertyGet", libvirt.pid,
                         call(LIBVIRT_NAME, str(domains[0]), props, "Get", "ss",
                              ["org.libvirt.Domain", "Name"])),
                    Kind("libvirt.EveryDomainWithProperties", libvirt.pid, every_domain,
                         per_block=max(2, BLOCK * 20 // guests)),
                    # What a libvirt-dbus client does for what ListGuests answers at least
                    # (each guest's path and state): ListDomains, then each domain's GetState.
                    Kind("libvirt.ListDomainsWithState", libvirt.pid, every_state,
                         per_block=max(2, BLOCK * 20 // guests)),
                ]
                by = {k.name: k for k in kinds}
            bus_pid = host.daemon_pid("dbus-daemon")
            for k in kinds:  # warm-up
                k.bus_pid = bus_pid
                k.call()
            rss_before = rss_kib(pid)
            for _ in range(max(1, per_kind // BLOCK)):
                for k in kinds:
                    k.block()
            rss_after = rss_kib(pid)
            print(f"guests={guests} {load()}", flush=True)
            for k in kinds:
                k.report()
            ratio("ListGuests_ratio_to_floor", by["stubdomd.ListGuests"], by["floor.ListGuests"])
            ratio("GetManagedObjects_ratio_to_floor", by["stubdomd.GetManagedObjects"],
                  by["floor.GetManagedObjects"])
            ratio("Ping_ratio_to_floor", by["stubdomd.Ping"], by["floor.Ping"])
            if libvirt:
                ratio("ListGuests_ratio_to_libvirt_dbus", by["stubdomd.ListGuests"],
                      by["libvirt.ListDomains"])
                ratio("PropertyGet_ratio_to_libvirt_dbus", by["stubdomd.PropertyGet"],
                      by["libvirt.PropertyGet"])
                ratio("GetManagedObjects_ratio_to_libvirt_dbus", by["stubdomd.GetManagedObjects"],
                      by["libvirt.EveryDomainWithProperties"])
                ratio("ListWithState_ratio_to_libvirt_dbus", by["stubdomd.ListGuests"],
                      by["libvirt.ListDomainsWithState"])
                ratio("Ping_ratio_to_libvirt_dbus", by["stubdomd.Ping"], by["libvirt.Ping"])
                # What bounds ListGuests beside ListDomains when the client is python-dbus:
                # the floor answers with stubdomd's bytes and no work of its own.
                ratio("floor_ListGuests_ratio_to_libvirt_ListDomains", by["floor.ListGuests"],
                      by["libvirt.ListDomains"])
                print(f"libvirt_dbus VmRSS_kib={rss_kib(libvirt.pid)}", flush=True)
            manager = "org.xen.Stubdom.Manager"
            splits = [("stubdomd.ListGuests",
                       (BUS_NAME, MANAGER_PATH, manager, "ListGuests", "", [])),
                      ("floor.ListGuests",
                       (FLOOR_NAME, MANAGER_PATH, manager, "ListGuests", "", []))]
            if libvirt:
                splits.append(("libvirt.ListDomains", (LIBVIRT_NAME, LIBVIRT_TEST,
                               "org.libvirt.Connect", "ListDomains", "u", [0])))
            for name, target in splits:
                split(conn, name, target, max(10, per_kind // 5))
            print(f"stubdomd VmRSS_before_kib={rss_before} VmRSS_after_kib={rss_after} "
                  f"growth_kib={rss_after - rss_before:+d} rss_kib_{guests}={rss_after}",
                  flush=True)
            assert d.proc.poll() is None, "stubdomd died during the benchmark"
            conn.close()


def main():
    floor_exe = sys.argv[1] if len(sys.argv) > 1 else shutil.which("stubdomd-bench-floor")
    if not floor_exe:
        raise SystemExit("usage: bench_dbus.py FLOOR-SERVER-EXECUTABLE")
    per_kind = int(os.environ.get("STUBDOMD_BENCH_DBUS_CALLS", "500"))
    for n in os.environ.get("STUBDOMD_BENCH_DBUS_SIZES", "20 200").split():
        run(floor_exe, int(n), per_kind)


if __name__ == "__main__":
    main()
