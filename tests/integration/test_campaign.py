"""Fault campaign (issue 9): guests come and go at random on the simulated host for a
fixed number of steps while faults are switched on at random and stubdomd is SIGKILLed
and started again three times; at the end, once the host has settled, every live guest
with a stub config has exactly one running stub domain or is failed with a reason, no
stub domain outlives its guest, stubdomd has no stray children, and its fds and RSS are
back near what they were at the start of its last incarnation.

Replay a failure with the seed it printed:
    STUBDOMD_CAMPAIGN_SEED=1234 meson test -C build --suite campaign -v
STUBDOMD_CAMPAIGN_STEPS shortens or lengthens the campaign (default 400, about a minute
on an idle machine).

The schedule is a function of the seed and the step number, not of time: what each
step does (create or destroy, which name, which fault, how long it pauses, whether it
reaps crashed guests), at which steps stubdomd is killed and how, and which steps have
short host memory are drawn from the seed, and every step draws the same numbers
whatever happened before, so the draws of a replay line up step for step. What still
depends on timing is what the host and stubdomd make of it: how far a spawn has got
when a kill lands, whether a stub's fault crash (N ms after its unpause, the sim's own
clock) comes before or after its guest is destroyed, and so which guests a reap finds
crashed. The end state must be right whatever that timing, which is the test; and the
settle waits until the sim has no domain still booting, so no crash scheduled during
the campaign can land after the check.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import time

import pytest

from campaign_checks import (children_of, failure_kinds, guest_objects, host_snapshot,
                             resources_when_only_helpers, settle_problems, CONSOLE_KINDS,
                             own_fds, live_stubs)
from helpers.support import RUN_FINE, helper
from simhost import SimHost, wait_for
from stubdomd import BUILD_ROOT, EXAMPLES, SANITIZED, Stubdomd

HVM = str(EXAMPLES / "hvmconfig")
STUB = (EXAMPLES / "stubdom-hvmconfig").read_text()

SEED = int(os.environ.get("STUBDOMD_CAMPAIGN_SEED") or time.time_ns() % 1_000_000)
STEPS = int(os.environ.get("STUBDOMD_CAMPAIGN_STEPS", "400"))
POOL = 100                  # distinct guests (names) the campaign creates and destroys
WITH_STUB_CONFIG = 0.85     # "most" of them have a stub-domain config
TARGET_LIVE = 35            # the campaign hovers around this many live guests
START_TIMEOUT_MS = 3000     # stubdomd's start_timeout_ms: a never-running stub fails in 3 s
BASELINE_AFTER_STEPS = 40   # of the last incarnation's own traffic before its baseline

# Per stub domain, drawn when its guest is created (the sim's NAME@DOMAIN switches).
P_CREATE_FAIL = 0.10
P_NEVER_RUNNING = 0.05
P_CRASH = 0.05

# Bounds of the end checks, against the start of the last incarnation, measured after
# a warmup (adoption done, a few seconds of the campaign's traffic served) at a moment
# when its only child is its helper:
# - the fd count must come back exactly: at both points the daemon holds its own fds
#   (xenstore, D-Bus, signalfd, timerfd, log …) and its helper's pidfd and pipe, and
#   nothing else; every spawn, failure and teardown of the campaign (hundreds) would
#   leave one more if any path leaked one. pidfds must equal the live children. The
#   console log of each live stub domain (its pty and its qemu-dm-<guest>.log) is not
#   the daemon's own: those must equal the live stub domains at the end instead.
# - RSS may grow by at most RSS_SLACK_KIB: the registry then holds at most a few dozen
#   guests more than at the warmup (a few KiB each, D-Bus objects included) and the
#   allocator keeps some of what it freed (runs show tens of KiB of growth); leaking a
#   guest's registry entry, D-Bus object or spawn attempt (a few KiB each) over the
#   hundred-odd spawns of the last incarnation exceeds it. The D-Bus objects are
#   also counted exactly against the listed guests.
RSS_SLACK_KIB = 512
# Under AddressSanitizer (SANITIZED) RSS says nothing; LeakSanitizer checks instead,
# when the last incarnation stops at the end.
MEMORY_WINDOWS = 4          # short-memory windows, at random steps


class Campaign:
    def __init__(self, host: SimHost, daemon: Stubdomd, rng: random.Random, stubbed: set[str]):
        self.host = host
        self.d = daemon
        self.rng = rng
        self.stubbed = stubbed
        self.live: dict[str, int] = {}        # guest name -> domid, as created by us
        self.faults: dict[str, str] = {}      # guest name -> fault kind of its stub
        self.counts = {k: 0 for k in (
            "guests created", "guest creates refused", "guests destroyed",
            "crashed guests destroyed", "fault xl-create-fail", "fault stubdom-never-running",
            "fault stubdom-crash-ms", "fault short-memory windows", "stubdomd kills",
            "kills of the whole unit (as systemd)", "stubdomd starts")}
        self.memory_window_ends: int | None = None
        self.created: set[str] = set()
        self.memory_windows: list[tuple[int, int, int]] = []  # (first step, steps, free KiB)
        self.killed_groups: list[int] = []      # process groups of killed incarnations

    # -- the toolstack side ------------------------------------------------------
    def create(self, pick: float, draw: tuple[float, int]):
        free = [n for n in (f"c{i:03d}" for i in range(POOL)) if n not in self.live]
        # Every guest of the pool once before any comes back.
        fresh = [n for n in free if n not in self.created]
        if not free:
            return
        choices = fresh or free
        name = choices[int(pick * len(choices))]
        if name in self.stubbed:
            self.set_fault(name, *draw)
        r = self.host.xl("create", HVM, f'name="{name}"', "memory=32", check=False)
        if r.returncode != 0:
            self.counts["guest creates refused"] += 1
            self.clear_fault(name)
            return
        self.counts["guests created"] += 1
        self.created.add(name)
        self.live[name] = self.host.domid(name) or -1

    def destroy(self, name: str, crashed: bool = False):
        self.host.xl("destroy", name, check=False)
        self.live.pop(name, None)
        self.clear_fault(name)
        self.counts["crashed guests destroyed" if crashed else "guests destroyed"] += 1

    def set_fault(self, name: str, x: float, crash_ms: int):
        stub = f"{name}-dm"
        if x < P_CREATE_FAIL:
            self.host.set_fault("xl-create-fail", "campaign: creation refused", domain=stub)
            kind = "xl-create-fail"
        elif x < P_CREATE_FAIL + P_NEVER_RUNNING:
            self.host.set_fault("stubdom-never-running", domain=stub)
            kind = "stubdom-never-running"
        elif x < P_CREATE_FAIL + P_NEVER_RUNNING + P_CRASH:
            # Before, around and after the boot delay (150 ms): crashes while starting
            # and while running.
            self.host.set_fault("stubdom-crash-ms", str(crash_ms), domain=stub)
            kind = "stubdom-crash-ms"
        else:
            return
        self.faults[name] = kind
        self.counts[f"fault {kind}"] += 1

    def clear_fault(self, name: str):
        kind = self.faults.pop(name, None)
        if kind:
            self.host.clear_fault(kind, domain=f"{name}-dm")

    def short_memory(self, step: int):
        """Host-wide, as memory is: a window of steps in which the host reports little
        free memory, so stub creates (and guests' own) are refused for a while."""
        if self.memory_window_ends is not None:
            if step >= self.memory_window_ends:
                self.host.clear_fault("free-memory-kib")
                self.memory_window_ends = None
            return
        if self.memory_windows and step >= self.memory_windows[0][0]:
            _, steps, free_kib = self.memory_windows.pop(0)
            self.host.set_fault("free-memory-kib", str(free_kib))
            self.memory_window_ends = step + steps
            self.counts["fault short-memory windows"] += 1

    def reap_crashed(self):
        """What xl's on_crash = "destroy" does: a crashed (shut down) guest is destroyed."""
        for domid, info in self.host.domains().items():
            if info.get("hvm") and info.get("shutdown"):
                name = next((n for n, d in self.live.items() if d == domid), None)
                if name:
                    self.destroy(name, crashed=True)

    def step(self, step: int):
        # The same draws at every step, whatever they are used for: a replay's stream of
        # draws lines up with the original's step for step.
        target = TARGET_LIVE * self.rng.uniform(0.6, 1.4)
        pick = self.rng.random()
        fault = (self.rng.random(), self.rng.randint(50, 1500))
        reap = self.rng.random() < 0.1
        pause = self.rng.uniform(0, 0.05)
        self.short_memory(step)
        if len(self.live) < target:
            self.create(pick, fault)
        elif self.live:
            victims = sorted(self.live)
            self.destroy(victims[int(pick * len(victims))])
        if reap:
            self.reap_crashed()
        time.sleep(pause)

    def kill_and_restart(self, step: int, whole_unit: bool, steps_while_down: int) -> int:
        """The kill, steps_while_down steps without a daemon, the start: the next step."""
        pgid = self.d.proc.pid  # its own session and process group (SimHost.spawn)
        self.killed_groups.append(pgid)
        self.d.kill()
        self.counts["stubdomd kills"] += 1
        if whole_unit:
            # What systemd does (KillMode=mixed): once the main process is gone, the rest
            # of the unit gets SIGKILL too, xl in the middle of a create included. Else
            # (a kill outside systemd) xl finishes on its own, and the helper gets SIGTERM
            # from the kernel as the daemon dies (PR_SET_PDEATHSIG).
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.counts["kills of the whole unit (as systemd)"] += 1
        # Guests keep coming and going while no stubdomd runs.
        for _ in range(steps_while_down):
            self.step(step)
            step += 1
        self.d.start()
        self.counts["stubdomd starts"] += 1
        return step

    def end_killed_groups(self):
        """What is left of the incarnations killed alone (an xl still finishing its
        command, as it would outside systemd) goes with the test: SimHost ends only the
        groups of the processes it still sees running."""
        for pgid in self.killed_groups:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def end_faults(self):
        self.host.clear_fault()
        self.faults.clear()
        self.memory_window_ends = None


def log_counts(log: str) -> dict[str, int]:
    return {
        "stub creates (xl create -p)": len(re.findall(r"creating \S+-dm from", log)),
        "stub domains reached running": log.count("stub domain is running"),
        "stub domains adopted": log.count("adopted running stub domain"),
        "spawn failures logged": len(re.findall(
            r"xl create failed|did not reach running|died while starting|not enough free memory",
            log)),
        "stub deaths while running": len(re.findall(r"-dm \(domid \d+\) died: ", log)),
        "half-started stubs respawned after a restart": log.count(
            "never reached running; destroying it and respawning"),
        "leftovers destroyed after a restart": log.count("left unlinked by an interrupted spawn")
        + log.count("destroying a stub domain whose guest is gone"),
    }


def assert_alive(d: Stubdomd):
    """stubdomd dies only by the campaign's own SIGKILLs."""
    if d.proc.poll() is not None:
        raise AssertionError(f"stubdomd exited on its own ({d.proc.returncode}) (seed {SEED})\n"
                             f"--- stubdomd log (tail) ---\n{d.log()[-20000:]}")


@pytest.fixture
def campaign_host():
    # Up to ~50 guests and their stub domains at 32 MiB each, and room to spare: short
    # memory is a fault switched on at random, not the normal state.
    with SimHost(total_mem_kib=16 * 1024 * 1024) as host:
        yield host


def test_fault_campaign(campaign_host, tmp_path):
    host = campaign_host
    rng = random.Random(SEED)
    policy = rng.choice(["crash-guest", "restart", "leave"])
    print(f"\ncampaign seed {SEED} (replay: STUBDOMD_CAMPAIGN_SEED={SEED}), "
          f"{STEPS} steps, on_stubdom_death = {policy}", flush=True)

    names = [f"c{i:03d}" for i in range(POOL)]
    stubbed = {n for n in names if rng.random() < WITH_STUB_CONFIG}
    d = Stubdomd(host, settings={
        "start_timeout_ms": START_TIMEOUT_MS,
        "on_stubdom_death": policy,
        "helpers": [helper("fs-backend", RUN_FINE, tmp_path / "starts")],
    })
    for n in stubbed:
        d.write_config_dir_file(f"stubdom-{n}", STUB)
    c = Campaign(host, d, rng, stubbed)

    # Three kills, spread over the campaign; the last leaves room for the last
    # incarnation's own traffic before its baseline and the end. At which step, and what
    # each kill does, is drawn here.
    kills = [(int(rng.uniform(lo, hi) * STEPS), rng.random() < 0.5, rng.randint(0, 4))
             for lo, hi in ((0.12, 0.28), (0.38, 0.55), (0.62, 0.72))]
    c.memory_windows = sorted((int(rng.uniform(0.05, 0.9) * STEPS), rng.randint(2, 14),
                               rng.randint(0, 96) * 1024) for _ in range(MEMORY_WINDOWS))
    d.start()
    c.counts["stubdomd starts"] += 1
    baseline = None
    last_start = 0
    step = 0
    try:
        while step < STEPS:
            if kills and step >= kills[0][0]:
                _, whole_unit, steps_while_down = kills.pop(0)
                step = c.kill_and_restart(step, whole_unit, steps_while_down)
                last_start = step
                baseline = None
            if baseline is None and not kills and (
                    step - last_start >= BASELINE_AFTER_STEPS or step == STEPS - 1):
                baseline = resources_when_only_helpers(d.proc.pid, RUN_FINE)
            c.step(step)
            step += 1
            assert_alive(d)
        c.end_faults()

        # Settle: the toolstack destroys what crashed; everything in flight finishes, and
        # no domain is still booting (so no fault's crash is still to come). Every change
        # of what is still wrong is progress.
        problems = []

        def settled():
            c.reap_crashed()
            try:
                problems[:] = settle_problems(host, d, stubbed, RUN_FINE)
            except AssertionError as e:  # a D-Bus call failed: not settled either
                problems[:] = [f"cannot check: {e}"]
            return not problems
        try:
            wait_for(settled, interval=0.5, what="the host to settle",
                     progress=lambda: list(problems))
        except AssertionError:
            pass  # reported below, after the counts
        assert_alive(d)

        assert baseline, "no moment without xl in flight after the last start"
        pid = d.proc.pid
        end = resources_when_only_helpers(pid, RUN_FINE) or (0, 0, {})
        final = host_snapshot(host, d, stubbed)
        report = {**c.counts, **log_counts(d.log()),
                  "final live guests": len(final["live"]),
                  **{f"final {k}": v for k, v in sorted(final["states"].items())},
                  "final stub domains": len(final["stubs"]),
                  "final failure reasons": failure_kinds(d, final),
                  "D-Bus guest objects": len(guest_objects(d)),
                  "fds start/end": f"{baseline[0]}/{end[0]}",
                  "fd kinds start": baseline[2], "fd kinds end": end[2],
                  "RSS KiB start/end": f"{baseline[1]}/{end[1]}"}
        print("campaign counts:")
        for k, v in report.items():
            print(f"  {k}: {v}")

        context = f"(seed {SEED}; replay with STUBDOMD_CAMPAIGN_SEED={SEED})"
        assert not problems, f"not settled {context}:\n" + \
            "\n".join(problems) + f"\n--- stubdomd log (tail) ---\n{d.log()[-20000:]}"
        assert c.counts["stubdomd kills"] == 3
        # Console fds come and go with the stub domains: one pty and one log per live stub.
        assert own_fds(end[2]) == own_fds(baseline[2]), \
            f"stubdomd's fds {baseline[2]} -> {end[2]} {context}"
        for kind in CONSOLE_KINDS:
            assert end[2].get(kind, 0) == live_stubs(final), \
                f"{kind} fds {end[2]} for {live_stubs(final)} live stub domains {context}"
        kids = children_of(pid)
        assert end[2].get("pidfd", 0) == len(kids), f"pidfds {end[2]} for children {kids}"
        assert len(guest_objects(d)) == len(d.guests()), \
            f"D-Bus guest objects {guest_objects(d)} for guests {sorted(d.guests())}"
        if not SANITIZED:
            assert end[1] <= baseline[1] + RSS_SLACK_KIB, \
                f"RSS {baseline[1]} KiB -> {end[1]} KiB {context}"
        # The campaign did what it says: enough traffic and every kind of fault.
        assert len(c.created) == POOL, f"only {len(c.created)} of the {POOL} guests created"
        assert c.counts["fault short-memory windows"] == MEMORY_WINDOWS
        for kind in ("xl-create-fail", "stubdom-never-running", "stubdom-crash-ms"):
            assert c.counts[f"fault {kind}"] > 0, f"no {kind} fault drawn {context}"
        # The last incarnation stops cleanly (under LeakSanitizer: without a leak).
        d.stop()
        assert d.proc.returncode == 0, f"stubdomd exited with {d.proc.returncode} on SIGTERM"
    finally:
        c.killed_groups.append(d.proc.pid)  # and the last, if a failure cut it short
        d.kill()
        c.end_killed_groups()
        # The whole log, for a failure's post-mortem (the host's directory goes).
        kept = BUILD_ROOT / "meson-logs" / "campaign-stubdomd.log"
        if kept.parent.is_dir():
            shutil.copyfile(d.log_file, kept)
            print(f"stubdomd's log: {kept}")
