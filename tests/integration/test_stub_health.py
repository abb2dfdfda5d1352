"""Stub domain health (issue 19), on the simulated host: a stub that runs out of memory is
named as such in LastError, in the StubFailed signal and in the journal line; a stub that
floods its console keeps its log (and the rotated .1) within stub_log_max_bytes while the
daemon stays responsive; `stubdomctl logs [-n N] [-f]` shows the console to root and not to
nobody; a stub config's `stubdomain_memory = "500M"` gives a 500 MiB stub, a bad unit is a
file:line error; Start's and Restart's stub-memory option (stubdomctl --stub-memory) gives
the stub its memory for that start and the restart policy's restarts after it, until Reload;
StubMemoryMiB shows it.
"""

import os
import subprocess
import threading
from pathlib import Path

from simhost import sim_host, wait_for  # noqa: F401  (fixture)
from stubdomd import BUILD_ROOT, EXAMPLES, Stubdomd
from test_dbus_helpers import MANAGER_PATH, Monitor, connect, payload, proxy

HVM = str(EXAMPLES / "hvmconfig")
PEER = "org.freedesktop.DBus.Peer"


def test_a_stub_killed_by_its_oom_killer_is_named_in_last_error_and_signal(sim_host):
    with Stubdomd(sim_host, settings={"on_stubdom_death": "leave"}) as d:
        monitor = Monitor(sim_host)
        try:
            monitor.sync(connect(sim_host))
            # Long enough after unpause that the stub runs first (boot delay 150 ms), and
            # measured from the stub's own start, not the test's clock.
            sim_host.set_fault("stubdom-oom-ms", "600", domain="hvmconfig-dm")
            sim_host.xl("create", HVM)
            guest = d.wait_state("hvmconfig", "failed")
            error = d.prop(guest["path"], "LastError")
            assert "hvmconfig-dm (domid " in error
            assert "crashed (Xen shutdown reason crash)" in error
            assert "OOM killer killed QEMU" in error
            assert "Out of memory: Killed process 231 (qemu-system-i38)" in error
            assert "stubdomain_memory" in error
            # The console's tail, as it was printed.
            assert "Kernel panic - not syncing: Attempted to kill init!" in error
            signals = monitor.wait(
                lambda ms: [m for m in ms if m.get("member") == "StubFailed"],
                what="StubFailed")
            assert signals[0]["path"] == guest["path"]
            cause, message = payload(signals[0])
            assert cause == "oom"
            assert message == error
            # The journal's line (stderr here) says the same.
            assert "OOM killer killed QEMU" in d.log()
        finally:
            monitor.stop()


def test_a_stub_that_crashes_without_a_word_is_a_crash(sim_host):
    with Stubdomd(sim_host, settings={"on_stubdom_death": "leave"}) as d:
        sim_host.xl("create", HVM)
        guest = d.wait_state("hvmconfig", "running")
        sim_host.crash(sim_host.domid("hvmconfig-dm"))
        d.wait_state("hvmconfig", "failed")
        error = d.prop(guest["path"], "LastError")
        assert "crashed (Xen shutdown reason crash)" in error
        assert "OOM" not in error


def test_a_flooding_stub_keeps_its_log_at_the_cap_and_the_daemon_answers(sim_host):
    cap = 64 * 1024
    flood = 40 * cap
    with Stubdomd(sim_host, settings={"stub_log_max_bytes": cap}) as d:
        sim_host.set_fault("stubdom-console-flood", str(flood), domain="hvmconfig-dm")
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "running")
        log = Path(d.settings["log_dir"]) / "qemu-dm-hvmconfig.log"
        rotated = Path(str(log) + ".1")
        peer = proxy(connect(sim_host), MANAGER_PATH, PEER)
        stub = sim_host.domid("hvmconfig-dm")
        dom_log = sim_host.dir / "log" / f"dom-{stub}.log"

        def on_disk():
            return sum(p.stat().st_size for p in (log, rotated) if p.exists())

        def flooded():
            # The daemon answers while the stub floods (each Ping is a round trip), and
            # the log never holds more than the cap.
            peer.Ping(timeout=30)
            assert on_disk() <= cap
            return dom_log.exists() and "stubdom-console-flood:" in dom_log.read_text()
        # Every byte the daemon copies is progress.
        wait_for(flooded, what="the stub to finish its flood", progress=on_disk)
        # The sim's xenconsoled drops what overflows its buffer, as xenconsoled does: a
        # line printed after the flood is the mark that the daemon has copied all of it.
        ring = os.open(sim_host.dir / "console" / str(stub), os.O_WRONLY | os.O_NONBLOCK)
        try:
            os.write(ring, b"after the flood\r\n")
        finally:
            os.close(ring)
        wait_for(lambda: log.exists() and "after the flood" in log.read_text(errors="replace"),
                 what="the line after the flood in the log", progress=on_disk)
        assert rotated.exists()
        assert cap // 2 < on_disk() <= cap
        assert rotated.stat().st_size == cap // 2
        assert d.guests()["hvmconfig"]["state"] == "running"


def ctl(host, *args, user=None):
    return host.run(BUILD_ROOT / "cli" / "stubdomctl", *args, user=user)


def test_stubdomctl_logs_shows_the_stub_console_to_root_and_nobody_else(sim_host):
    with Stubdomd(sim_host) as d:
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "running")
        g = sim_host.domid("hvmconfig")
        booting = f"ioemu stub domain hvmconfig-dm (xensim stand-in) booting, target {g}"
        # The stub prints its lines as it boots; the copy into the log follows them.
        wait_for(lambda: booting in ctl(sim_host, "logs", "hvmconfig").stdout,
                 what="the stub's boot line in `stubdomctl logs`",
                 progress=lambda: ctl(sim_host, "logs", "hvmconfig").stdout)
        lines = ctl(sim_host, "logs", "hvmconfig", "-n", "1").stdout.splitlines()
        assert len(lines) == 1
        everything = ctl(sim_host, "logs", "hvmconfig", "-n", "100").stdout.splitlines()
        assert lines == everything[-1:]
        assert booting in everything
        denied = ctl(sim_host, "logs", "hvmconfig", user="nobody")
        assert denied.returncode == 1
        assert denied.stderr.startswith("stubdomctl: permission denied: "), denied.stderr
        bad = ctl(sim_host, "logs", "hvmconfig", "-n", "0")
        assert bad.returncode == 2


def test_a_guest_with_500_mib_of_stub_memory_gets_a_500_mib_stub(sim_host):
    with Stubdomd(sim_host) as d:
        d.write_config_dir_file("stubdom-hvmconfig",
                                (EXAMPLES / "stubdom-hvmconfig").read_text()
                                + 'stubdomain_memory = "500M"\n')
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "running")
        stub = sim_host.domid("hvmconfig-dm")
        assert sim_host.table()[stub]["mem_kib"] == 500 * 1024
        guest = d.guests()["hvmconfig"]
        assert d.prop(guest["path"], "StubMemoryMiB") == 500
        assert "Stub memory: 500 MiB" in " ".join(ctl(sim_host, "status", "hvmconfig").stdout.split())


def test_start_with_stub_memory_gives_the_stub_that_memory_until_reload(sim_host):
    with Stubdomd(sim_host, settings={"on_stubdom_death": "restart"}) as d:
        sim_host.xl("create", HVM)
        guest = d.wait_state("hvmconfig", "running")
        default = d.prop(guest["path"], "StubMemoryMiB")
        assert default == sim_host.table()[sim_host.domid("hvmconfig-dm")]["mem_kib"] // 1024
        assert default != 500
        r = ctl(sim_host, "restart", "hvmconfig", "--stub-memory", "500M")
        assert r.returncode == 0, r.stderr
        first = sim_host.domid("hvmconfig-dm")
        assert sim_host.table()[first]["mem_kib"] == 500 * 1024
        assert d.prop(guest["path"], "StubMemoryMiB") == 500
        # The restart policy's stub gets it too.
        sim_host.crash(first)
        wait_for(lambda: (sim_host.domid("hvmconfig-dm") or first) != first,
                 what="a new stub domain")
        d.wait_state("hvmconfig", "running")
        assert d.prop(guest["path"], "Restarts") == 1
        assert sim_host.table()[sim_host.domid("hvmconfig-dm")]["mem_kib"] == 500 * 1024
        # Reload: the stub config rules again (for the next stub).
        assert ctl(sim_host, "reload").returncode == 0
        assert d.prop(guest["path"], "StubMemoryMiB") == default
        assert ctl(sim_host, "restart", "hvmconfig").returncode == 0
        stub = sim_host.domid("hvmconfig-dm")
        assert sim_host.table()[stub]["mem_kib"] == default * 1024


def test_a_stub_memory_option_too_small_bad_or_too_big_is_refused(sim_host):
    with Stubdomd(sim_host) as d:
        sim_host.xl("create", HVM)
        guest = d.wait_state("hvmconfig", "running")
        stub = sim_host.domid("hvmconfig-dm")
        small = ctl(sim_host, "restart", "hvmconfig", "--stub-memory", "8M")
        assert small.returncode == 1
        assert "stub-memory is 8 MiB; the ioemu stub domain needs at least 16 MiB" in \
            small.stderr, small.stderr
        bad = ctl(sim_host, "restart", "hvmconfig", "--stub-memory", "500Q")
        assert bad.returncode == 1 and '"500Q" is not a memory size' in bad.stderr, bad.stderr
        # Refused before anything stopped.
        assert sim_host.domid("hvmconfig-dm") == stub
        assert d.prop(guest["path"], "State") == "running"
        # More than the host has: the free-memory check of a stub config's value.
        huge = ctl(sim_host, "restart", "hvmconfig", "--stub-memory", "1024G")
        assert huge.returncode == 1
        assert "not enough free memory for hvmconfig-dm: it needs 1048576 MiB" in huge.stderr, \
            huge.stderr
        assert d.prop(guest["path"], "State") == "failed"


def test_a_bad_memory_unit_and_too_little_memory_are_refused_naming_file_and_line(sim_host):
    with Stubdomd(sim_host) as d:
        text = (EXAMPLES / "stubdom-hvmconfig").read_text()
        line = len(text.splitlines()) + 1
        d.write_config_dir_file("stubdom-hvmconfig", text + 'stubdomain_memory = "500Q"\n')
        sim_host.xl("create", HVM)
        guest = d.wait_state("hvmconfig", "failed")
        reason = d.prop(guest["path"], "StateReason")
        assert f"stubdom-hvmconfig:{line}: 'stubdomain_memory' must be a size in MiB" in reason
        assert '"500Q"' in reason


def test_stubdomctl_logs_follow_prints_what_the_stub_prints_next(sim_host):
    with Stubdomd(sim_host) as d:
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "running")
        stub = sim_host.domid("hvmconfig-dm")
        proc = sim_host.spawn(BUILD_ROOT / "cli" / "stubdomctl", "logs", "hvmconfig", "-f",
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              bufsize=1)
        seen = []
        reader = threading.Thread(target=lambda: seen.extend(proc.stdout), daemon=True)
        reader.start()
        try:
            wait_for(lambda: any("booting" in line for line in seen),
                     what="the lines before -f's stream", progress=lambda: len(seen))
            # What the stub prints next: into its console ring, as its kernel would.
            ring = os.open(sim_host.dir / "console" / str(stub), os.O_WRONLY | os.O_NONBLOCK)
            try:
                os.write(ring, b"a line printed after -f began\r\n")
            finally:
                os.close(ring)
            wait_for(lambda: any("a line printed after -f began" in line for line in seen),
                     what="the new line on the -f stream", progress=lambda: len(seen))
            assert proc.poll() is None
        finally:
            proc.terminate()
            proc.wait()
