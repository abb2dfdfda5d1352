"""stubdomctl display, display set, display password and vnc (issue 5) against the real
stubdomd on the simulated host, with the README's set-ups of test_display.py."""

import json
import subprocess

import pytest

from simhost import command_line, communicate, sim_host, wait_for  # noqa: F401  (fixture)
from stubdomd import BUILD_ROOT, STUBDOMD
from test_display import HVM, generated, get_display, start, stub_config

STUBDOMCTL = BUILD_ROOT / "cli" / "stubdomctl"

pytestmark = pytest.mark.skipif(not STUBDOMD.exists() or not STUBDOMCTL.exists(),
                                reason=f"needs {STUBDOMD} and {STUBDOMCTL}")


def ctl(host, *args, user=None, input=None):
    return host.run(STUBDOMCTL, *args, user=user, input=input)


def test_display_shows_the_mode_address_port_and_uri(sim_host):
    guest_cfg = 'vnc = 1\nvnclisten = "172.30.206.1"\n'
    d = start(sim_host, stub_config(vif0="'ip=172.30.206.1'"), guest_cfg)
    with d:
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "running")
        r = ctl(sim_host, "display", "hvmconfig")
        assert r.returncode == 0, r.stderr
        assert r.stdout == ("Guest: hvmconfig\nMode: vnc-stubdom\nAddress: 172.30.206.1\n"
                            "Port: 5900\nPassword: not set\nURI: vnc://172.30.206.1:5900\n")
        r = ctl(sim_host, "display", "hvmconfig", "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == get_display(d)
        r = ctl(sim_host, "vnc", str(sim_host.domid("hvmconfig")))
        assert (r.returncode, r.stdout) == (0, "vnc://172.30.206.1:5900\n"), r.stderr


def test_vnc_without_a_vnc_display_exits_1(sim_host):
    d = start(sim_host, stub_config())
    with d:
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "running")
        r = ctl(sim_host, "display", "hvmconfig", "--json")
        assert json.loads(r.stdout)["mode"] == "none"
        r = ctl(sim_host, "vnc", "hvmconfig")
        assert (r.returncode, r.stdout) == (1, "")
        assert r.stderr == "stubdomctl: hvmconfig has no VNC address (display none)\n"
        r = ctl(sim_host, "vnc", "no-such-guest")
        assert (r.returncode, r.stderr) == (1, "stubdomctl: no guest named 'no-such-guest'\n")


def test_display_set_then_restart_changes_the_generated_config(sim_host):
    d = start(sim_host, stub_config())
    with d:
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "running")
        r = ctl(sim_host, "display", "hvmconfig", "set", "vnc-stubdom", "--listen", "127.0.0.1")
        assert r.returncode == 1 and "loopback" in r.stderr and "(InvalidDisplay)" in r.stderr
        r = ctl(sim_host, "display", "hvmconfig", "set", "vnc-stubdom",
                "--listen", "172.30.206.1", "--vncdisplay", "1")
        assert r.returncode == 0, r.stderr
        assert "restart" in r.stdout
        assert "vif = [ \"\"," in generated(sim_host)  # not before the restart
        r = ctl(sim_host, "restart", "hvmconfig")
        assert r.returncode == 0, r.stderr
        assert 'vif = [ "ip=172.30.206.1", ' in generated(sim_host)
        r = ctl(sim_host, "vnc", "hvmconfig")
        assert (r.returncode, r.stdout) == (0, "vnc://172.30.206.1:5901\n"), r.stderr


def test_display_set_usage_errors_exit_2(sim_host):
    for args in (["set", "vnc-elsewhere"], ["set", "vnc-dom0", "--vncdisplay", "1", "--unused"],
                 ["set"]):
        r = ctl(sim_host, "display", "hvmconfig", *args)
        assert r.returncode == 2, (args, r.stderr)


def test_unused_asks_for_the_next_free_port_in_dom0(sim_host):
    d = start(sim_host, stub_config(vfb="type=vnc,vncdisplay=3,vncunused=0"),
              "vnc = 0\nsdl = 0\n")
    with d:
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "running")
        r = ctl(sim_host, "display", "hvmconfig", "set", "vnc-dom0", "--unused",
                "--keymap", "de")
        assert r.returncode == 0, r.stderr
        r = ctl(sim_host, "restart", "hvmconfig")
        assert r.returncode == 0, r.stderr
        cfg = generated(sim_host)
        assert "vncunused=1" in cfg and "keymap=de" in cfg, cfg


def test_the_password_comes_from_stdin_and_shows_up_nowhere_else(sim_host):
    secret = "pw-c1i-42d9"
    d = start(sim_host, stub_config(vfb="type=vnc"), "vnc = 0\nsdl = 0\n")
    with d:
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "running")
        p = sim_host.spawn(STUBDOMCTL, "display", "hvmconfig", "password",
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        # While stubdomctl waits for the password, no command line holds it. (Its own
        # command line is in place a moment after Popen returns: ps shows "[stubdomctl]"
        # until then, and failed CI once.)
        assert command_line(p.pid) == [str(STUBDOMCTL), "display", "hvmconfig", "password"]
        ps = sim_host.run("ps", "-eo", "args", "ww")
        assert ps.returncode == 0 and str(STUBDOMCTL) in ps.stdout
        assert secret not in ps.stdout
        out, err = communicate(p, "stubdomctl display password", input=secret + "\n")
        assert p.returncode == 0, err
        assert out == "hvmconfig: VNC password set from the next start (restart applies it)\n"
        assert secret not in out + err
        r = ctl(sim_host, "display", "hvmconfig", "--json")
        assert json.loads(r.stdout)["password-set"] is True
        r = ctl(sim_host, "restart", "hvmconfig")
        assert r.returncode == 0, r.stderr
        s = sim_host.domid("hvmconfig-dm")
        assert sim_host.xs_read(f"/local/domain/0/backend/vfb/{s}/0/vncpasswd") == secret
        assert secret not in d.log()
        assert secret not in generated(sim_host)
        # An empty line removes it.
        r = ctl(sim_host, "display", "hvmconfig", "password", input="\n")
        assert r.returncode == 0, r.stderr
        assert "removed" in r.stdout
        r = ctl(sim_host, "display", "hvmconfig", "--json")
        assert json.loads(r.stdout)["password-set"] is False


def test_a_mode_without_a_password_refuses_one(sim_host):
    d = start(sim_host, stub_config())
    with d:
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "running")
        r = ctl(sim_host, "display", "hvmconfig", "password", input="secret\n")
        assert r.returncode == 1 and "(InvalidDisplay)" in r.stderr, r.stderr
