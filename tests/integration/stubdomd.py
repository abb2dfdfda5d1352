"""The real stubdomd binary on a simulated Xen host, for integration tests.

    from simhost import sim_host, wait_for
    from stubdomd import Stubdomd

    def test_x(sim_host, tmp_path):
        with Stubdomd(sim_host, config_dir=tmp_path, settings={...}) as d:
            sim_host.xl("create", "examples/hvmconfig")
            d.wait_state("hvmconfig", "running")

Stable API (other suites build on it; extend, do not change):
  Stubdomd(host, *, config_dir=None, settings=None, args=(), env=None, rlimits=None)
      config_dir: the --xen-config-dir (default: a fresh one with examples/stubdom-hvmconfig)
      settings:   extra stubdomd.json keys (toolstack, runtime_dir, state_dir, exports_dir,
                  log_dir are filled in for the sim, and a start timeout of 10 minutes:
                  a test of the timeout sets its own, short one)
      env:        extra environment (NOTIFY_SOCKET, WATCHDOG_USEC …)
      rlimits:    {resource.RLIMIT_…: (soft, hard)} the daemon starts with (systemd's
                  LimitNOFILE=, say)
  .start(wait_ready=True) .stop() (SIGTERM) .kill() (SIGKILL) .restart()
  .log() -> str               everything the daemon wrote to stderr so far
  .proc                       the Popen
  .guests() -> {name: {name, uuid, state, domid, stub_domid, path}}   (ListGuests)
  .prop(path, name) -> value  a org.xen.Stubdom.Guest property, via busctl
  .wait_state(name, state, timeout=None)   progress-based: every change of the guest's
                                           state (or of its stub domain) is progress
  .busctl(*args, user=None) -> CompletedProcess
  .write_config_dir_file(name, text)
  .children(program) -> {pid: argv}   the daemon's running children whose argv[0] ends
                                      with program (vchan-socket-proxy, say)
SANITIZED: True in a sanitizer build's test run (no RSS bounds there; LeakSanitizer).
Where the binary is: $BUILD_ROOT/daemon/stubdomd (meson sets BUILD_ROOT), else
<source root>/build/daemon/stubdomd.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

from simhost import SOURCE_ROOT, SimHost, command_line, cpu_ticks, wait_for, wait_process

BUILD_ROOT = Path(os.environ.get("BUILD_ROOT", SOURCE_ROOT / "build"))
# Set by tests/sanitize/run-sanitized: the daemon runs under AddressSanitizer, whose
# quarantine of freed memory and shadow memory make its RSS no measure of a leak (tests
# skip RSS bounds then); LeakSanitizer reports every leak as the daemon exits instead.
SANITIZED = os.environ.get("STUBDOMD_SANITIZED") == "1"
STUBDOMD = BUILD_ROOT / "daemon" / "stubdomd"
EXAMPLES = SOURCE_ROOT / "examples"


class Stubdomd:
    def __init__(self, host: SimHost, *, config_dir: Optional[os.PathLike] = None,
                 settings: Optional[dict] = None, args=(), env: Optional[dict] = None,
                 rlimits: Optional[dict] = None):
        self.host = host
        self.config_dir = Path(config_dir) if config_dir else Path(
            tempfile.mkdtemp(prefix="xenconf-", dir=host.dir))
        if config_dir is None:
            shutil.copy(EXAMPLES / "stubdom-hvmconfig", self.config_dir)
        self.settings = {
            "toolstack": str(host.build / "xl"),
            "runtime_dir": str(host.dir / "stubdomd-run"),
            "state_dir": str(host.dir / "stubdomd-state"),
            # The daemon's start timeout is no limit to a test on a busy machine: tests of
            # the timeout itself set a short one; a start that never comes stalls the
            # test's wait instead.
            "start_timeout_ms": 600_000,
            # stubdomd makes the exports tree at start: never the machine's /exports.
            "exports_dir": str(host.dir / "exports"),
            # Linux stub domains: the sim's QMP responder, never the machine's /run/xen.
            "vchan_socket_proxy": str(host.build / "vchan-socket-proxy"),
            "qmp_socket_dir": str(host.dir / "run-xen"),
            # Stub domains' console logs (qemu-dm-<guest>.log): never the machine's.
            "log_dir": str(host.dir / "xenlog"),
            **(settings or {}),
        }
        self.config_file = host.dir / "stubdomd.json"
        self.args = list(args)
        self.env = dict(env or {})
        self.rlimits = dict(rlimits or {})
        self.log_file = host.dir / "stubdomd.log"
        self.proc: Optional[subprocess.Popen] = None

    # -- lifecycle -------------------------------------------------------------------
    def start(self, wait_ready: bool = True) -> "Stubdomd":
        self.config_file.write_text(json.dumps(self.settings, indent=2))
        log = open(self.log_file, "a")
        limits = self.rlimits

        def set_limits():  # in the child, before exec
            for which, soft_hard in limits.items():
                resource.setrlimit(which, soft_hard)
        self.proc = self.host.spawn(
            STUBDOMD, "--config", self.config_file, "--xen-config-dir", self.config_dir,
            *self.args, env={"LD_PRELOAD": str(self.host.shim), **self.env}, stdout=log, stderr=log,
            preexec_fn=set_limits if limits else None)
        log.close()
        if wait_ready:
            # Its start is work it does: its CPU time moving is progress.
            wait_for(lambda: self.proc.poll() is not None or self._owns_name(),
                     what="stubdomd to own org.xen.Stubdom",
                     progress=lambda: cpu_ticks(self.proc.pid))
            if self.proc.poll() is not None:
                raise AssertionError(f"stubdomd exited with {self.proc.returncode}:\n{self.log()}")
        return self

    def _owns_name(self) -> bool:
        return self.busctl("status", "org.xen.Stubdom").returncode == 0

    def stop(self):
        """SIGTERM, and its exit waited for as long as it is busy stopping; one that
        stalls is SIGKILLed and reported."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                wait_process(self.proc, "stubdomd to exit on SIGTERM")
            except AssertionError as e:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"{e}\n--- stubdomd log (tail) ---\n{self.log()[-6000:]}")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self):
        self.stop()
        return self.start()

    def __enter__(self) -> "Stubdomd":
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log(self) -> str:
        return self.log_file.read_text() if self.log_file.exists() else ""

    def children(self, program: str) -> dict[int, list[str]]:
        """The daemon's children running `program` (argv[0] ends with it): pid -> argv."""
        r = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        found = {}
        for pid in map(int, r.stdout.split()):
            argv = command_line(pid)
            if argv and argv[0].endswith(program):
                found[pid] = argv
        return found

    def write_config_dir_file(self, name: str, text: str):
        (self.config_dir / name).write_text(text)

    # -- D-Bus, through busctl ----------------------------------------------------------
    def busctl(self, *args, user: Optional[str] = None) -> subprocess.CompletedProcess:
        return self.host.run("busctl", "--system", *args, user=user)

    def guests(self) -> dict[str, dict]:
        r = self.busctl("--json=short", "call", "org.xen.Stubdom", "/org/xen/Stubdom",
                        "org.xen.Stubdom.Manager", "ListGuests")
        if r.returncode != 0:
            raise AssertionError(f"ListGuests failed: {r.stderr}\nstubdomd exit status: {self.proc.poll()}\n--- stubdomd log (tail) ---\n{self.log()[-6000:]}")
        rows = json.loads(r.stdout)["data"][0]
        return {row[0]: dict(zip(("name", "uuid", "state", "domid", "stub_domid", "path"), row))
                for row in rows}

    def prop(self, path: str, name: str):
        r = self.busctl("--json=short", "get-property", "org.xen.Stubdom", path,
                        "org.xen.Stubdom.Guest", name)
        if r.returncode != 0:
            raise AssertionError(f"get-property {name} failed: {r.stderr}")
        return json.loads(r.stdout)["data"]

    def wait_state(self, name: str, state: str, timeout: Optional[float] = None) -> dict:
        """Until the guest is in `state`; fails only if its state (and stub domain) stay
        the same for the stall window."""
        seen: list = [None]

        def reached():
            guest = self.guests().get(name)
            seen[0] = guest and (guest["state"], guest["stub_domid"])
            return guest if guest and guest["state"] == state else None
        try:
            return wait_for(reached, timeout, what=f"{name} to be {state}",
                            progress=lambda: seen[0])
        except Exception:
            raise AssertionError(f"{name} never reached {state}: {self.guests().get(name)}\n"
                                 f"--- stubdomd log ---\n{self.log()}")
