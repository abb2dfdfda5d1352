"""stubdom-dm against fake_stubdomd.py: attach, stand in for qemu while the guest lives,
exit with the right status and reason."""
import signal
import subprocess

import pytest

from conftest import NOBODY, STUBDOM_DM, stop, wait_line

# What libxl passes a qemu-traditional device model (libxl__build_device_model_args_old).
LIBXL_ARGS = ["-domain-name", "hvmconfig", "-videoram", "8", "-vnc", "127.0.0.1:0",
              "-vncunused", "-k", "en-us", "-serial", "pty", "-boot", "c", "-acpi",
              "-vcpus", "1", "-net", "nic,vlan=0,macaddr=00:16:3e:00:00:01,model=rtl8139",
              "-M", "xenfv"]


def dm(env, domid, *extra, as_nobody=False):
    command = (NOBODY if as_nobody else []) + [STUBDOM_DM, "-d", str(domid), *LIBXL_ARGS,
                                               *extra]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def test_runs_until_the_guest_is_destroyed(fake, env):
    fake.add("hvmconfig", 5, state="pending")
    process = dm(env, 5)
    try:
        wait_line(process.stderr, "stub domain 6 is running")
        assert process.poll() is None  # stays in the foreground
        fake.control.RemoveGuest("hvmconfig")
        assert process.wait(5) == 0
        assert b"the guest is gone" in process.stderr.read()
        assert fake.calls() == ["Attach"]
    finally:
        stop(process)


def test_the_toolstacks_display_arguments_are_attach_options(fake, env):
    fake.add("hvmconfig", 5, state="pending")
    process = dm(env, 5, "-sdl")
    try:
        wait_line(process.stderr, "stub domain 6 is running")
        options = {str(k): v for k, v in fake.control.LastAttachOptions().items()}
        assert options == {"vnc": True, "vnclisten": "127.0.0.1:0", "vncunused": True,
                           "sdl": True, "keymap": "en-us", "videoram": 8}
    finally:
        stop(process)


def test_attach_failure_exits_1_with_the_reason(fake, env):
    fake.add("hvmconfig", 5, state="pending")
    fake.control.FailNext(5, "org.xen.Stubdom.Error.InvalidConfig",
                          "/etc/xen/stubdom-hvmconfig:3: syntax error")
    process = dm(env, 5)
    try:
        assert process.wait(10) == 1
        assert process.stderr.read().decode() == (
            "stubdom-dm: domain 5 (hvmconfig): cannot attach: "
            "/etc/xen/stubdom-hvmconfig:3: syntax error\n")
    finally:
        stop(process)


def test_stub_domain_failure_later_exits_1(fake, env):
    fake.add("hvmconfig", 5, state="pending")
    process = dm(env, 5)
    try:
        wait_line(process.stderr, "is running")
        fake.control.SetState("hvmconfig", "failed", "stub domain 6 crashed")
        assert process.wait(5) == 1
        assert b"the stub domain failed: stub domain 6 crashed" in process.stderr.read()
    finally:
        stop(process)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_signal_stops_the_stub_domain(fake, env, sig):
    fake.add("hvmconfig", 5, state="pending")
    process = dm(env, 5)
    try:
        wait_line(process.stderr, "is running")
        process.send_signal(sig)
        assert process.wait(5) == 0
        assert fake.calls() == ["Attach", "Stop"]
    finally:
        stop(process)


def test_daemon_not_running(bus, env):
    process = dm(env, 5)
    try:
        assert process.wait(10) == 1
        assert process.stderr.read().decode() == (
            "stubdom-dm: domain 5 (hvmconfig): cannot attach: stubdomd is not running "
            "(org.xen.Stubdom is not on the system bus)\n")
    finally:
        stop(process)


def test_not_root_is_refused(fake, env):
    fake.add("hvmconfig", 5, state="pending")
    process = dm(env, 5, as_nobody=True)
    try:
        assert process.wait(10) == 1
        assert b"cannot attach: Attach needs uid 0" in process.stderr.read()
    finally:
        stop(process)


def test_usage():
    result = subprocess.run([STUBDOM_DM, "-domain-name", "x"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("stubdom-dm: missing -d DOMID")
    result = subprocess.run([STUBDOM_DM, "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("usage: stubdom-dm -d DOMID")
