"""A simulated Xen host for integration tests (tests/xensim, DESIGN.md section 6).

    from simhost import SimHost, sim_host, wait_for   # sim_host is a pytest fixture

    def test_something(sim_host):
        sim_host.xl("create", "examples/hvmconfig")
        assert sim_host.xs_read("/local/domain/1/name") == "hvmconfig"

    with SimHost() as host:            # outside pytest fixtures
        ...

`SimHost` runs `xensim up` on enter and `xensim down` on exit (also when the test
fails), so no xenstored or dbus-daemon outlives a test. Everything runs against the
host's own xenstored (XENSTORED_PATH) and system bus (DBUS_SYSTEM_BUS_ADDRESS) through
`host.env`; nothing touches the machine's real ones.

Where the tools are: $XENSIM_BUILD (the build's tests/xensim directory; meson sets it
for the tests), else <source root>/build/tests/xensim. $SOURCE_ROOT defaults to the
checkout this file is in.

Stable API (other suites build on it; extend, do not change):
  SimHost(directory=None, *, trace=None, total_mem_kib=None, dom0_mem_kib=None,
          boot_delay_ms=None, dm_timeout_ms=None)
  .dir .env .build .source_root .shim   paths / the environment of the host
  .up() .down()                         also via `with`
  .run(*argv, check=False, user=None, env=None, timeout=None) -> CompletedProcess (text)
  .spawn(*argv, user=None, env=None, **popen_kwargs) -> Popen, ended by down()
  .xl(*args, check=True) -> CompletedProcess
  .xs_read(path) -> str | None   .xs_write(path, value)   .xs_ls(path) -> [names]
  .xs_rm(path)   .xs_perms(path) -> ["n0", "r1", ...] | None   .xs_chmod(path, *perms)
  .domid(name) -> int | None      .domains() -> {domid: {...}} (libxenctrl's view)
  .set_fault(name, value="", domain=None)   .clear_fault(name=None, domain=None)
  .set_setting(name, value)
  .crash(domid)                   the domain crashes: VIRQ_DOM_EXC, @releaseDomain
  .watch(path) -> Watch           .events, .wait_for(count or predicate), .stop()
  .table() -> {domid: {name, flags, reason, target, mem_kib, procs, booting}}  (xensim list)
  wait_for(predicate, timeout=None, interval=0.05, what="", *, progress=None, stall=None,
           backoff=True)
  wait_process(proc, what="", *, timeout=None, progress=None) -> returncode
  communicate(proc, what="", *, input=None, timeout=None, progress=None) -> (out, err)
  command_line(pid) -> [argv…] or None (gone)   waits out an exec still under way
  process_gone(pid) -> bool       gone, or a zombie
  STALL_SECONDS

Waits are progress-based: a busy machine makes a test slower, never failed. A wait
fails only when nothing it watches has moved for STALL_SECONDS (120 by default;
$STUBDOMD_TEST_STALL_SECONDS sets it): neither the value the predicate returned (a
count, a state, a list that changes is progress) nor what `progress()` returns (a
log's length, the number of stub domains running). A `timeout` given by a caller only
makes that window longer. Deadlines that are the behaviour under test (a stubdomd
timeout) are the daemon's and the sim's own settings, asserted as such, not waits.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Optional

import pytest

SOURCE_ROOT = Path(os.environ.get("SOURCE_ROOT", Path(__file__).resolve().parents[2]))
BUILD = Path(os.environ.get("XENSIM_BUILD", SOURCE_ROOT / "build" / "tests" / "xensim"))

# Names of the fault switches (tests/xensim/README.md).
FAULTS = ("xl-create-fail", "stubdom-never-running", "stubdom-crash-ms", "stubdom-oom-ms",
          "stubdom-console-flood", "free-memory-kib",
          "qmp-garbage", "qmp-never-greet", "qmp-stall")
SETTINGS = ("boot-delay-ms", "dm-timeout-ms")

# Every process a test starts inherits this process's signal dispositions, and an ignored
# signal stays ignored across exec, out of reach of a shell's trap. Run under nohup (or a
# CI runner that ignores SIGHUP), the device models the sim's xl starts could not see
# libxl's SIGHUP on destroy; the tests expect the default a dom0 service starts with.
signal.signal(signal.SIGHUP, signal.SIG_DFL)


# How long a wait may see nothing move before it fails. Long on purpose: the work a test
# waits for takes well under a second on an idle machine, and a machine kept busy by
# other work must only slow it down; what never moves for this long is stuck.
STALL_SECONDS = float(os.environ.get("STUBDOMD_TEST_STALL_SECONDS", "120"))


def wait_for(predicate: Callable[[], object], timeout: Optional[float] = None,
             interval: float = 0.05, what: str = "", *,
             progress: Optional[Callable[[], object]] = None, stall: Optional[float] = None,
             backoff: bool = True):
    """Polls predicate until it returns something truthy, which is returned. Raises
    AssertionError naming `what` once nothing has moved for `stall` seconds
    (STALL_SECONDS): neither predicate's own (falsy) value nor progress()'s value has
    changed. `timeout`, from the old signature, only lengthens that window. Polls slow
    down to a few a second while nothing moves, so a long wait costs the machine little
    (backoff=False keeps `interval`, for a benchmark that measures the wait)."""
    window = max(stall if stall is not None else STALL_SECONDS, timeout or 0)
    seen: object = object()
    moved = time.monotonic()
    pause = interval
    while True:
        value = predicate()
        if value:
            return value
        now_seen = (value, progress() if progress else None)
        now = time.monotonic()
        if now_seen != seen:
            seen, moved, pause = now_seen, now, interval
        elif now - moved >= window:
            raise AssertionError(f"nothing moved for {window:.0f}s waiting for "
                                 f"{what or predicate} (last seen: {now_seen!r})")
        elif backoff:
            pause = min(max(interval, 0.25), pause * 1.5)
        time.sleep(pause)


def rss_kib(pid: int) -> int:
    """A process's resident set (VmRSS, KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def cpu_ticks(pid: int) -> int:
    """utime + stime of a process and of its children it has waited for (clock ticks);
    0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0
    return sum(int(f) for f in fields[11:15])


def process_gone(pid: int) -> bool:
    """Whether a process has ended: no /proc entry, or a zombie. A process may end
    between opening its /proc file and reading it (ESRCH): that is gone too."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def command_line(pid: int) -> Optional[list[str]]:
    """A process's argv, or None once it is gone (or a zombie). The kernel lets the parent
    go on (posix_spawn and Popen return, a vfork ends) before the new program's arguments
    are in place: for that moment /proc/PID/cmdline is empty and ps shows "[comm]". An
    empty one of a live process is waited out."""
    def read():
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return "gone"
        if process_gone(pid):
            return "gone"
        return raw.decode(errors="replace").split("\0")[:-1] or None
    argv = wait_for(read, what=f"process {pid}'s command line")
    return None if argv == "gone" else argv


def wait_process(proc: subprocess.Popen, what: str = "", *, timeout: Optional[float] = None,
                 progress: Optional[Callable[[], object]] = None) -> int:
    """Waits for proc to end and returns its status; fails (AssertionError) only when it
    has used no CPU, and progress() (if given) has not changed, for the stall window.
    `timeout` only lengthens the window."""
    window = max(STALL_SECONDS, timeout or 0)
    seen: object = None
    moved = time.monotonic()
    while True:
        try:
            return proc.wait(timeout=0.25)
        except subprocess.TimeoutExpired:
            pass
        now_seen = (cpu_ticks(proc.pid), progress() if progress else None)
        if now_seen != seen:
            seen, moved = now_seen, time.monotonic()
        elif time.monotonic() - moved >= window:
            raise AssertionError(f"nothing moved for {window:.0f}s waiting for "
                                 f"{what or proc.args} to exit")


def communicate(proc: subprocess.Popen, what: str = "", *, input: Optional[str] = None,
                timeout: Optional[float] = None,
                progress: Optional[Callable[[], object]] = None) -> tuple[str, str]:
    """Popen.communicate, waited for as wait_process waits: as long as the process (or
    progress()) keeps moving. One stuck for the stall window is killed and AssertionError
    raised with what it printed so far. Returns (stdout, stderr), "" for a stream that
    is not a pipe."""
    out: list = []
    err: list = []
    # Pipes are drained while waiting, so a talkative process never blocks on a full one.
    readers = [threading.Thread(target=lambda f=f, acc=acc: acc.append(f.read()), daemon=True)
               for f, acc in ((proc.stdout, out), (proc.stderr, err)) if f is not None]
    for r in readers:
        r.start()
    if input is not None:
        proc.stdin.write(input)
        proc.stdin.close()
    try:
        wait_process(proc, what, timeout=timeout, progress=progress)
    except AssertionError as e:
        proc.kill()
        proc.wait()
        for r in readers:
            r.join()
        raise AssertionError(f"{e}\n--- its output ---\n{_text(out)}{_text(err)}") from None
    for r in readers:
        r.join()
    return _text(out), _text(err)


def _text(chunks: list) -> str:
    return "".join(c if isinstance(c, str) else c.decode(errors="replace") for c in chunks)


def run_command(argv, *, env: Optional[dict] = None, check: bool = False,
                timeout: Optional[float] = None, input: Optional[str] = None,
                progress: Optional[Callable[[], object]] = None) -> subprocess.CompletedProcess:
    """subprocess.run with text output captured, waited for as communicate() waits."""
    proc = subprocess.Popen(argv, env=env, text=True,
                            stdin=subprocess.PIPE if input is not None else None,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = communicate(proc, f"{' '.join(map(str, argv))} to finish", input=input,
                           timeout=timeout, progress=progress)
    result = subprocess.CompletedProcess(argv, proc.returncode, out, err)
    if check:
        result.check_returncode()
    return result


def _user_prefix(user: Optional[str]) -> list[str]:
    # setpriv drops to the user's ids without a login session (runuser would need PAM).
    if user is None:
        return []
    import pwd
    pw = pwd.getpwnam(user)
    return ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups", "--"]


class Watch:
    """A xenstore watch held by the stock xenstore-watch client; events are the paths
    reported, the first one being the registration event xenstored always sends."""

    def __init__(self, host: "SimHost", path: str):
        self.path = path
        self.events: list[str] = []
        self._lock = threading.Lock()
        self._proc = host.spawn("xenstore-watch", path, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        # Registered once xenstored has sent the initial event.
        self.wait_for(1, what=f"watch on {path} to register")

    def _read(self):
        for line in self._proc.stdout:
            with self._lock:
                self.events.append(line.strip().split(" ")[0])

    def count(self) -> int:
        with self._lock:
            return len(self.events)

    def wait_for(self, count_or_predicate, timeout: Optional[float] = None, what: str = ""):
        """Until the events satisfy the predicate (or number `n` of them arrived); every
        new event is progress."""
        if callable(count_or_predicate):
            return wait_for(lambda: count_or_predicate(list(self.events)), timeout, what=what,
                            progress=self.count)
        n = count_or_predicate
        return wait_for(lambda: self.count() >= n, timeout, progress=self.count,
                        what=what or f"{n} events on {self.path} (have {self.events})")

    def stop(self):
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(2)
            except subprocess.TimeoutExpired:
                self._proc.kill()  # a watch being torn down: no result depends on it
                self._proc.wait()
        self._reader.join()


class SimHost:
    """One simulated Xen host in a directory (a fresh one under /tmp by default: the
    directory must be reachable by unprivileged users for their D-Bus clients)."""

    def __init__(self, directory: Optional[os.PathLike] = None, *, trace=None,
                 total_mem_kib: Optional[int] = None, dom0_mem_kib: Optional[int] = None,
                 boot_delay_ms: Optional[int] = None, dm_timeout_ms: Optional[int] = None):
        self.build = BUILD
        self.source_root = SOURCE_ROOT
        self.shim = BUILD / "libxensim-shim.so"
        self._own_dir = directory is None
        self.dir = Path(directory) if directory else Path(
            tempfile.mkdtemp(prefix="xensim-", dir="/tmp"))
        self._options: list[str] = []
        if trace:
            self._options += ["--trace", str(trace)]
        for flag, value in (("--total-mem", total_mem_kib), ("--dom0-mem", dom0_mem_kib),
                            ("--boot-delay-ms", boot_delay_ms),
                            ("--dm-timeout-ms", dm_timeout_ms)):
            if value is not None:
                self._options += [flag, str(value)]
        self.env: dict[str, str] = {}
        self._children: list[subprocess.Popen] = []
        self._watches: list[Watch] = []
        self._is_up = False

    # -- lifecycle ---------------------------------------------------------------
    def up(self) -> "SimHost":
        result = run_command([str(BUILD / "xensim"), "up", str(self.dir), *self._options])
        if result.returncode != 0:
            raise RuntimeError(f"xensim up {self.dir} failed:\n{result.stdout}{result.stderr}")
        self._is_up = True
        self.env = self._read_env()
        return self

    def down(self):
        for w in self._watches:
            w.stop()
        self._watches.clear()
        for p in self._children:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            p.wait()
        self._children.clear()
        if self._is_up or self.dir.exists():
            run_command([str(BUILD / "xensim"), "down", str(self.dir)])
        self._is_up = False
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "SimHost":
        try:
            return self.up()
        except BaseException:
            self.down()
            raise

    def __exit__(self, *exc):
        self.down()

    def _read_env(self) -> dict[str, str]:
        # DIR/env is shell; let the shell evaluate it rather than parse it here.
        out = subprocess.run(["bash", "-c", f'. "{self.dir}/env" && env -0'],
                             capture_output=True, check=True)
        env = {}
        for item in out.stdout.split(b"\0"):
            if b"=" in item:
                k, v = item.decode().split("=", 1)
                env[k] = v
        return env

    # -- processes ---------------------------------------------------------------
    def run(self, *argv, check: bool = False, user: Optional[str] = None,
            env: Optional[dict] = None, timeout: Optional[float] = None,
            input: Optional[str] = None) -> subprocess.CompletedProcess:
        """Runs a command in the host's environment; text output captured. It may take
        as long as it needs while it, or the host's daemons it talks to, use CPU (a busy
        machine makes it slow, not failed); it is ended, and AssertionError raised, only
        once nothing has moved for the stall window (`timeout` lengthens it)."""
        return run_command([*_user_prefix(user), *map(str, argv)],
                           env={**self.env, **(env or {})}, check=check, timeout=timeout,
                           input=input, progress=self.activity)

    HOST_DAEMONS = ("xenstored", "dbus-daemon", "consoled")

    def daemon_pid(self, name: str) -> int:
        """The pid of one of the host's own daemons (HOST_DAEMONS), from its pid file."""
        assert name in self.HOST_DAEMONS, name
        return int((self.dir / f"{name}.pid").read_text().strip())

    def daemons(self) -> list[int]:
        """The pids of the host's own daemons that are up: xenstored, dbus-daemon,
        xenconsoled."""
        pids = []
        for name in self.HOST_DAEMONS:
            try:
                pids.append(self.daemon_pid(name))
            except (OSError, ValueError):
                pass
        return pids

    def activity(self) -> int:
        """CPU time used so far by the host's daemons and the processes a test spawned on
        it (stubdomd among them): it grows while the host is working."""
        return sum(cpu_ticks(pid) for pid in
                   self.daemons() + [p.pid for p in self._children if p.poll() is None])

    def spawn(self, *argv, user: Optional[str] = None, env: Optional[dict] = None,
              **kwargs) -> subprocess.Popen:
        """Starts a background process (its own process group), ended by down()."""
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        p = subprocess.Popen([*_user_prefix(user), *map(str, argv)],
                             env={**self.env, **(env or {})}, start_new_session=True,
                             **kwargs)
        self._children.append(p)
        return p

    def xl(self, *args, check: bool = True, env: Optional[dict] = None
           ) -> subprocess.CompletedProcess:
        result = self.run("xl", *args, env=env)
        if check and result.returncode != 0:
            raise AssertionError(f"xl {' '.join(map(str, args))} failed "
                                 f"({result.returncode}):\n{result.stderr}")
        return result

    # -- xenstore, through the stock clients ---------------------------------------
    def xs_read(self, path: str) -> Optional[str]:
        r = self.run("xenstore-read", path)
        return r.stdout.rstrip("\n") if r.returncode == 0 else None

    def xs_write(self, path: str, value: str):
        self.run("xenstore-write", path, value, check=True)

    def xs_ls(self, path: str) -> list[str]:
        r = self.run("xenstore-list", path)
        return r.stdout.split() if r.returncode == 0 else []

    def xs_rm(self, path: str):
        self.run("xenstore-rm", path, check=True)

    def xs_perms(self, path: str) -> Optional[list[str]]:
        r = self.run("xenstore-ls", "-p", path.rsplit("/", 1)[0] or "/")
        if r.returncode != 0:
            return None
        leaf = path.rsplit("/", 1)[1]
        for line in r.stdout.splitlines():
            if not line.startswith(" ") and line.split(" = ", 1)[0] == leaf:
                return line.rsplit("(", 1)[1].rstrip(")").split(",")
        return None

    def xs_chmod(self, path: str, *perms: str):
        self.run("xenstore-chmod", path, *perms, check=True)

    # -- the hypervisor's view -------------------------------------------------------
    def domid(self, name: str) -> Optional[int]:
        r = self.run("xl", "domid", name)
        return int(r.stdout) if r.returncode == 0 else None

    def domains(self) -> dict[int, dict]:
        """xc_domain_getinfolist through the shim, as stubdomd sees the host."""
        r = self.run(BUILD / "xc-probe", "list", check=True,
                     env={"LD_PRELOAD": str(self.shim)})
        doms = {}
        for line in r.stdout.splitlines():
            domid, *fields = line.split()
            doms[int(domid)] = {k: int(v, 0) for k, v in (f.split("=") for f in fields)}
        return doms

    def table(self) -> dict[int, dict]:
        """The domain table as the sim keeps it (`xensim list`): domid -> {name, flags,
        reason, target (None without one), mem_kib, procs, booting (its boot helper, and
        with it the domain's simulated life, a fault's crash included, still runs)}."""
        r = self.run(BUILD / "xensim", "list", self.dir, check=True)
        table = {}
        for line in r.stdout.splitlines():
            domid, name, *fields = line.split()
            kv = dict(f.split("=", 1) for f in fields if "=" in f)
            target = int(kv["target"])
            table[int(domid)] = {"name": name, "flags": int(kv["flags"], 16),
                                 "reason": int(kv["reason"]),
                                 "target": None if target < 0 else target,
                                 "mem_kib": int(kv["mem_kib"]), "procs": int(kv["procs"]),
                                 "booting": kv["booting"] == "1"}
        return table

    def crash(self, domid: int):
        self.run(BUILD / "xensim", "crash", self.dir, domid, check=True)

    # -- faults and settings -----------------------------------------------------------
    def set_fault(self, name: str, value: str = "", domain: Optional[str] = None):
        """Turns a fault switch on, for every domain or only the one named `domain`."""
        self.run(BUILD / "xensim", "fault", self.dir,
                 name if domain is None else f"{name}@{domain}", value, check=True)

    def clear_fault(self, name: Optional[str] = None, domain: Optional[str] = None):
        """Turns one switch off, or all of them when no name is given."""
        target = "--all" if name is None else (name if domain is None else f"{name}@{domain}")
        self.run(BUILD / "xensim", "clear", self.dir, target, check=True)

    def set_setting(self, name: str, value):
        self.run(BUILD / "xensim", "set", self.dir, name, value, check=True)

    # -- watches -------------------------------------------------------------------------
    def watch(self, path: str) -> Watch:
        w = Watch(self, path)
        self._watches.append(w)
        return w


@pytest.fixture
def sim_host():
    """A simulated host that is up for one test and down afterwards, whatever happened."""
    with SimHost() as host:
        yield host
