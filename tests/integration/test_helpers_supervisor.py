"""The helper supervisor (issue 6) on the simulated host: the real stubdomd runs the
tests' own helper programs (tests/integration/helpers/) and is driven over D-Bus
with busctl and stubdomctl. After every test: no helper process left, no zombie, and
the daemon's fd count back where it was."""

import os
import signal
import time

from simhost import sim_host, wait_for  # noqa: F401  (fixture)
from stubdomd import BUILD_ROOT, EXAMPLES, Stubdomd

from helpers.support import (CRASH_AT_ONCE, IGNORE_SIGTERM, RUN_FINE, call, children,
                             fd_count, helper, no_zombie, processes_running, prop,
                             settled_fd_count, starts, wait_state)

HVM = str(EXAMPLES / "hvmconfig")
STUBDOMCTL = BUILD_ROOT / "cli" / "stubdomctl"


def test_a_helper_that_crashes_at_once_backs_off_then_fails_until_restart(sim_host, tmp_path):
    starts_file = tmp_path / "starts"
    settings = {"helpers": [helper("crasher", CRASH_AT_ONCE, starts_file, start_limit_burst=3)]}
    with Stubdomd(sim_host, settings=settings) as d:
        wait_state(d, "crasher", "failed")
        first = starts(starts_file)
        assert len(first) == 3
        # The default backoff, 1 s then 2 s: never early; late only by a loaded machine.
        gaps = [b - a for a, b in zip(first, first[1:])]
        assert 0.95 <= gaps[0] < 1.0 + 10, gaps
        assert 1.95 <= gaps[1] < 2.0 + 10, gaps
        assert prop(d, "crasher", "Restarts") == 2
        assert prop(d, "crasher", "MainPID") == 0
        assert prop(d, "crasher", "LastExit") == "exited with status 3"
        log = d.log()
        assert "[helper crasher] crashing on purpose" in log
        assert "[helper crasher] restarting in 1 s" in log
        assert "[helper crasher] restarting in 2 s" in log
        assert "[helper crasher] start limit reached: 3 starts within 60 s" in log
        no_zombie(d)

        # Failed stays failed...
        time.sleep(2.5)
        assert len(starts(starts_file)) == 3
        # ...until Restart, which needs authorization. (The first polkit check makes the
        # D-Bus layer's polkit proxy, whose fds stay: the baseline comes after it.)
        denied = call(d, "crasher", "Restart", user="nobody")
        assert denied.returncode != 0, denied.stdout
        baseline = fd_count(d)
        assert call(d, "crasher", "Restart", user="nobody").returncode != 0
        assert len(starts(starts_file)) == 3
        assert call(d, "crasher", "Restart").returncode == 0
        wait_for(lambda: len(starts(starts_file)) >= 4, what="a fresh start")
        wait_state(d, "crasher", "failed")
        assert len(starts(starts_file)) == 6
        no_zombie(d)
        assert settled_fd_count(d, baseline) == baseline
    assert processes_running(str(starts_file)) == []


def test_a_helper_that_ignores_sigterm_is_killed_after_the_stop_timeout(sim_host, tmp_path):
    starts_file = tmp_path / "starts"
    settings = {"helpers": [helper("stubborn", IGNORE_SIGTERM, starts_file, enabled=False,
                                   stop_timeout_ms=1500)]}
    with Stubdomd(sim_host, settings=settings) as d:
        assert prop(d, "stubborn", "State") == "disabled"
        baseline = fd_count(d)
        assert call(d, "stubborn", "Start").returncode == 0
        assert prop(d, "stubborn", "State") == "running"
        pid = prop(d, "stubborn", "MainPID")
        assert pid in [c[0] for c in children(d.proc.pid)]
        wait_for(lambda: len(starts(starts_file)) == 1, what="the helper to run")

        began = time.monotonic()
        assert call(d, "stubborn", "Stop").returncode == 0  # replies once it is gone
        assert time.monotonic() - began >= 1.4
        assert prop(d, "stubborn", "State") == "stopped"
        assert prop(d, "stubborn", "LastExit") == "killed by signal 9"
        assert "[helper stubborn] still running 1.5 s after SIGTERM; sending SIGKILL" in d.log()
        assert processes_running(str(starts_file)) == []
        no_zombie(d)
        assert settled_fd_count(d, baseline) == baseline

        # The daemon's own stop does the same, and waits for it.
        assert call(d, "stubborn", "Start").returncode == 0
        wait_for(lambda: len(starts(starts_file)) == 2, what="the helper to run again")
        d.stop()
        assert d.proc.returncode == 0
        assert processes_running(str(starts_file)) == []
        assert "[helper stubborn] still running 1.5 s after SIGTERM; sending SIGKILL" in \
            d.log().split("stopping on")[-1]


def test_a_helper_that_runs_fine_stays_up_across_guests_coming_and_going(sim_host, tmp_path):
    starts_file = tmp_path / "starts"
    settings = {"helpers": [helper("fs-backend", RUN_FINE, starts_file, required=True)]}
    with Stubdomd(sim_host, settings=settings) as d:
        wait_for(lambda: len(starts(starts_file)) == 1, what="fs-backend to run")
        pid = prop(d, "fs-backend", "MainPID")
        baseline = fd_count(d)
        for round in range(3):
            sim_host.xl("create", HVM)
            d.wait_state("hvmconfig", "running")
            sim_host.xl("destroy", "hvmconfig")
            wait_for(lambda: "hvmconfig" not in d.guests(), what="the guest to go")
        assert prop(d, "fs-backend", "State") == "running"
        assert prop(d, "fs-backend", "MainPID") == pid
        assert prop(d, "fs-backend", "Restarts") == 0
        assert len(starts(starts_file)) == 1
        assert "[helper fs-backend] serving" in d.log()
        no_zombie(d)
        assert settled_fd_count(d, baseline) == baseline

        # stubdomctl lists it and restarts it.
        listed = sim_host.run(STUBDOMCTL, "helpers")
        assert listed.returncode == 0, listed.stderr
        assert ["fs-backend", "running", str(pid)] == listed.stdout.splitlines()[1].split()[:3]
        restarted = sim_host.run(STUBDOMCTL, "helper", "restart", "fs-backend")
        assert restarted.returncode == 0, restarted.stderr
        wait_for(lambda: len(starts(starts_file)) == 2, what="the new process to run")
        assert prop(d, "fs-backend", "MainPID") not in (0, pid)
        assert prop(d, "fs-backend", "LastExit") == "killed by signal 15"
        no_zombie(d)
        assert settled_fd_count(d, baseline) == baseline
    assert d.proc.returncode == 0
    assert processes_running(str(starts_file)) == []
    assert "[helper fs-backend] stopped: killed by signal 15" in d.log()


def test_a_helper_ends_with_a_daemon_killed_outside_systemd(sim_host, tmp_path):
    """Under systemd, KillMode=mixed ends a dead daemon's helpers. Run without it, a
    SIGKILLed stubdomd's fs-backend would serve on beside the next run's: the kernel
    sends it SIGTERM when the daemon dies (PR_SET_PDEATHSIG), and the next run starts
    the one fs-backend there is."""
    starts_file = tmp_path / "starts"
    settings = {"helpers": [helper("fs-backend", RUN_FINE, starts_file, required=True)]}
    with Stubdomd(sim_host, settings=settings) as d:
        killed_group = d.proc.pid  # its own process group (SimHost.spawn)
        try:
            wait_for(lambda: len(starts(starts_file)) == 1, what="fs-backend to run")
            first = prop(d, "fs-backend", "MainPID")
            assert processes_running(str(starts_file)) == [first]
            d.kill()  # the daemon alone: its process group, the helper's, lives on
            wait_for(lambda: processes_running(str(starts_file)) == [],
                     what="the helper to end with the daemon")
            d.start()
            wait_for(lambda: len(starts(starts_file)) == 2, what="the next run's fs-backend")
            second = prop(d, "fs-backend", "MainPID")
            assert second != first
            assert processes_running(str(starts_file)) == [second]
            assert prop(d, "fs-backend", "State") == "running"
            no_zombie(d)
        finally:
            # A helper that outlived the killed daemon (the failure this test looks for)
            # is in that daemon's group, which SimHost no longer sees: it goes here.
            try:
                os.killpg(killed_group, signal.SIGKILL)
            except ProcessLookupError:
                pass
    assert processes_running(str(starts_file)) == []


def test_a_missing_helper_is_disabled_and_guests_still_start_with_a_warning(sim_host, tmp_path):
    missing = tmp_path / "fs-backend"
    with Stubdomd(sim_host, settings={"helpers": [{"name": "fs-backend",
                                                   "path": str(missing)}]}) as d:
        assert prop(d, "fs-backend", "State") == "disabled"
        assert prop(d, "fs-backend", "LastExit") == \
            f"cannot run {missing}: No such file or directory"
        baseline = fd_count(d)
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "running")
        assert (f"[guest hvmconfig domid {sim_host.domid('hvmconfig')}] helper fs-backend is "
                f"not running (disabled: cannot run {missing}: No such file or directory); "
                "the stub domain starts without it") in d.log()
        sim_host.xl("destroy", "hvmconfig")
        wait_for(lambda: "hvmconfig" not in d.guests(), what="the guest to go")
        no_zombie(d)
        assert settled_fd_count(d, baseline) == baseline


def test_a_missing_required_helper_holds_guests_back_and_says_why(sim_host, tmp_path):
    program = tmp_path / "fs-backend"
    starts_file = tmp_path / "starts"
    settings = {"helpers": [helper("fs-backend", program, starts_file, required=True)]}
    with Stubdomd(sim_host, settings=settings) as d:
        assert prop(d, "fs-backend", "State") == "disabled"
        baseline = fd_count(d)
        sim_host.xl("create", HVM)
        guest = d.wait_state("hvmconfig", "pending")
        reason = (f"waiting for the required helper fs-backend (disabled: cannot run {program}: "
                  "No such file or directory)")
        wait_for(lambda: d.prop(guest["path"], "StateReason") == reason,
                 what="the guest to say why it waits")
        time.sleep(1)
        assert d.guests()["hvmconfig"]["state"] == "pending"
        assert sim_host.domid("hvmconfig-dm") is None

        # The administrator installs it and starts it: the guest goes ahead.
        program.write_bytes(RUN_FINE.read_bytes())
        program.chmod(0o755)
        assert call(d, "fs-backend", "Start").returncode == 0
        d.wait_state("hvmconfig", "running")
        assert d.prop(guest["path"], "StateReason") == ""
        sim_host.xl("destroy", "hvmconfig")
        wait_for(lambda: "hvmconfig" not in d.guests(), what="the guest to go")
        assert call(d, "fs-backend", "Stop").returncode == 0
        no_zombie(d)
        assert settled_fd_count(d, baseline) == baseline
    assert processes_running(str(starts_file)) == []
