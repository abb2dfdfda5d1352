"""stubdom-dm run by the toolstack (the sim's fake xl) as the device model of a guest
whose config names it, with the real stubdomd: the stub domain comes up, stubdom-dm
stays while the guest lives and ends with it; a failing stub config makes it fail."""

import stat

import pytest

from simhost import sim_host, wait_for  # noqa: F401  (fixture)
from stubdomd import BUILD_ROOT, STUBDOMD, Stubdomd

STUBDOM_DM = BUILD_ROOT / "cli" / "stubdom-dm"

pytestmark = pytest.mark.skipif(not STUBDOMD.exists() or not STUBDOM_DM.exists(),
                                reason=f"needs {STUBDOMD} and {STUBDOM_DM}")

# libxl signals the device model's pid; this wrapper passes the signal on and records
# stubdom-dm's exit status, which would otherwise go to an orphan's reaper. Python's wait
# goes on after a signal's handler has run (PEP 475), so the status it returns is the
# child's own, taken once.
WRAPPER = """#!/usr/bin/python3
import os, signal, subprocess, sys
child = subprocess.Popen(["{dm}", *sys.argv[1:]])
for forwarded in (signal.SIGHUP, signal.SIGTERM):
    signal.signal(forwarded, lambda number, frame: child.send_signal(number))
status = child.wait()
# Written whole, then renamed: the test polls for the file and must never read it half-done.
with open("{status}.part", "w") as out:
    out.write(f"{{status}}\\n")
os.rename("{status}.part", "{status}")
"""


def guest_config(tmp_path, key):
    wrapper = tmp_path / "stubdom-dm-wrapper"
    wrapper.write_text(WRAPPER.format(dm=STUBDOM_DM, status=tmp_path / "dm-status"))
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    device_model = ([f'device_model_override = "{wrapper}"',
                     'device_model_version = "qemu-xen-traditional"']
                    if key == "xl" else [f'device_model = "{wrapper}"'])
    cfg = tmp_path / "hvmconfig.cfg"
    cfg.write_text("\n".join([
        'name = "hvmconfig"', 'type = "hvm"', "memory = 256", "vcpus = 1",
        "vif = [ 'ip=10.0.1.1,mac=aa:00:00:12:23:34' ]", *device_model]) + "\n")
    return cfg


def dm_log(host):
    log = host.dir / "log" / "qemu-dm-hvmconfig.log"
    return log.read_text() if log.exists() else ""


@pytest.mark.parametrize("key", ["xl", "xend"])
def test_stub_domain_comes_up_and_stubdom_dm_ends_with_the_guest(sim_host, tmp_path, key):
    with Stubdomd(sim_host) as daemon:
        sim_host.xl("create", guest_config(tmp_path, key))
        # xl came back: the device model (stubdom-dm) reported running.
        g = sim_host.domid("hvmconfig")
        s = sim_host.domid("hvmconfig-dm")
        assert s is not None, daemon.log()
        assert sim_host.xs_read(f"/local/domain/0/device-model/{g}/state") == "running"
        assert daemon.guests()["hvmconfig"]["stub_domid"] == s
        wait_for(lambda: f"stub domain {s} is running" in dm_log(sim_host),
                 what="stubdom-dm to log the running stub domain")
        assert not (tmp_path / "dm-status").exists()  # still in the foreground

        sim_host.xl("destroy", "hvmconfig")
        wait_for(lambda: (tmp_path / "dm-status").exists(),
                 what=f"stubdom-dm to exit; its log:\n{dm_log(sim_host)}")
        assert (tmp_path / "dm-status").read_text().strip() == "0", dm_log(sim_host)
        wait_for(lambda: sim_host.domid("hvmconfig-dm") is None,
                 what="the stub domain to go")
        # One stub domain for the guest, though stubdomd saw it both ways.
        assert daemon.log().count("stub domain is running") == 1


def test_failing_stub_config_makes_stubdom_dm_fail_with_the_reason(sim_host, tmp_path):
    daemon = Stubdomd(sim_host)
    daemon.write_config_dir_file("stubdom-hvmconfig", "kernel = \nvif = [ '' \n")
    with daemon:
        result = sim_host.xl("create", guest_config(tmp_path, "xl"), check=False)
        assert result.returncode != 0
        wait_for(lambda: (tmp_path / "dm-status").exists(),
                 what=f"stubdom-dm to exit; its log:\n{dm_log(sim_host)}")
        assert (tmp_path / "dm-status").read_text().strip() == "1"
        log = dm_log(sim_host)
        assert "stubdom-dm: domain " in log and "(hvmconfig): cannot attach: " in log, log
        assert "stubdom-hvmconfig" in log  # the reason names the broken file
        assert sim_host.domid("hvmconfig-dm") is None


def test_stub_domain_that_never_runs_makes_stubdom_dm_fail(sim_host, tmp_path):
    sim_host.set_fault("stubdom-never-running")
    with Stubdomd(sim_host, settings={"start_timeout_ms": 1000}):
        result = sim_host.xl("create", guest_config(tmp_path, "xl"), check=False)
        assert result.returncode != 0
        wait_for(lambda: (tmp_path / "dm-status").exists(),
                 what=f"stubdom-dm to exit; its log:\n{dm_log(sim_host)}")
        assert (tmp_path / "dm-status").read_text().strip() == "1"
        assert "cannot attach: " in dm_log(sim_host)
