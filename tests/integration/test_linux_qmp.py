"""The QMP side of the Linux stub-domain flavour (issue 10) on the simulated host: a Linux
stub domain gets its vchan-socket-proxy (the sim's QMP responder) with libxl's command
line, GetDisplay reports what its qemu says over QMP, SetDisplayPassword reaches qemu,
and the proxy goes with its stub domain; a device model that sends garbage, never
greets or stalls gives a clear D-Bus error within qmp_timeout_ms while the daemon stays
responsive; an ioemu guest beside it is unchanged."""

import json
import os
import subprocess
import time

import pytest

from simhost import sim_host, wait_for, wait_process  # noqa: F401  (fixture)
from stubdomd import EXAMPLES, Stubdomd

HVM = str(EXAMPLES / "hvmconfig")
GUEST = "org.xen.Stubdom.Guest"
VNC_IP = "172.30.206.7"


def linux_stub(host, vif0=f"'ip={VNC_IP}'"):
    return (f'stubdomain_kernel = "{host.dir}/boot/qemu-stubdom-linux-kernel"\n'
            f'stubdomain_ramdisk = "{host.dir}/boot/qemu-stubdom-linux-rootfs"\n'
            f"vif = [ {vif0}, 'ip=10.0.1.1,mac=aa:00:00:12:23:34' ]\n")


def start(host, guest_extra="", **settings):
    for name in ("DISPLAY", "XAUTHORITY"):
        host.env.pop(name, None)
    # QMP answers come when the machine lets them: the daemon's QMP timeout (which one test
    # makes short, being its subject) is no limit to the others.
    d = Stubdomd(host, settings={"qmp_timeout_ms": 600_000, **settings})
    d.write_config_dir_file("stubdom-lx", linux_stub(host))
    d.write_config_dir_file("lx", f'vnc = 1\nvnclisten = "{VNC_IP}"\n{guest_extra}')
    return d


def vnc_arg(host, uuid):
    argv = f"/vm/{uuid}/image/dm-argv"
    keys = host.xs_ls(argv)
    values = [host.xs_read(f"{argv}/{k}") for k in keys]
    i = values.index("-vnc") + 1
    return f"{argv}/{keys[i]}", values[i]


def path_of(d, name="lx"):
    return d.guests()[name]["path"]


def call(d, method, *args, name="lx"):
    """gdbus, whose failures carry the D-Bus error name."""
    return d.host.run("gdbus", "call", "--system", "--dest", "org.xen.Stubdom",
                      "--object-path", path_of(d, name), "--method", f"{GUEST}.{method}",
                      *args)


def get_display(d, name="lx"):
    r = d.busctl("--json=short", "call", "org.xen.Stubdom", path_of(d, name), GUEST,
                 "GetDisplay")
    assert r.returncode == 0, r.stderr
    return {k: v["data"] for k, v in json.loads(r.stdout)["data"][0].items()}


def proxies(d):
    """The daemon's vchan-socket-proxy children: pid → argv."""
    return d.children("vchan-socket-proxy")


def socket_of(host, g):
    return host.dir / "run-xen" / f"qmp-libxl-{g}"


def boot(host, d):
    host.xl("create", HVM, 'name="lx"')
    d.wait_state("lx", "running")
    return host.domid("lx"), host.domid("lx-dm")


def test_linux_guest_speaks_qmp_beside_an_unchanged_ioemu_guest(sim_host):
    h = sim_host
    d = start(h)
    with d:
        d.write_config_dir_file("stubdom-hvmconfig", (EXAMPLES / "stubdom-hvmconfig").read_text())
        h.xl("create", HVM)
        g, s = boot(h, d)
        d.wait_state("hvmconfig", "running")

        # One proxy, for the Linux stub only, with libxl 4.17's arguments.
        assert list(proxies(d).values()) == [[
            str(h.build / "vchan-socket-proxy"),
            f"--state-path=/local/domain/0/device-model/{s}/qmp-proxy-state", str(s),
            f"/local/domain/{s}/device-model/{g}/qmp-vchan", str(socket_of(h, g))]]
        assert socket_of(h, g).exists()
        assert h.xs_read(f"/local/domain/0/device-model/{s}/qmp-proxy-state") == "running"

        # GetDisplay asks qemu: it reports -vnc of dm-argv. What qemu says wins over the
        # plan; to see that, the stub's qemu "listens" elsewhere than planned.
        uuid = d.guests()["lx"]["uuid"]
        vnc_key, vnc = vnc_arg(h, uuid)
        assert vnc == f"{VNC_IP}:0"  # no password: no password auth, as libxl starts qemu
        assert get_display(d) == {"mode": "vnc-stubdom", "address": VNC_IP, "port": 5900,
                                  "password-set": False, "uri": f"vnc://{VNC_IP}:5900"}
        h.run("xenstore-write", "--", vnc_key, f"{VNC_IP}:3", check=True)
        assert get_display(d)["port"] == 5903
        assert d.prop(path_of(d), "DisplayPort") == 5903  # the property follows
        assert "query-vnc" in (h.dir / "log" / "qmp-lx-dm.log").read_text().split()

        # A qemu started without password auth takes no password (qemu would refuse it):
        # SetDisplayPassword stores it for the next start, and nowhere else.
        secret = "pw-qmp-41c7"
        r = call(d, "SetDisplayPassword", secret)
        assert r.returncode == 0, r.stderr
        record = h.dir / "qmp" / "lx-dm.vnc-password"
        assert not record.exists()
        assert "takes effect at the next start" in d.log()
        assert get_display(d)["password-set"] is True
        assert h.xs_read(f"/vm/{uuid}/vncpasswd") is None
        assert secret not in d.log()

        # The ioemu guest: no QMP, the README's display path, GetDisplay as before.
        assert get_display(d, "hvmconfig")["mode"] == "none"
        hg = h.domid("hvmconfig")
        assert not socket_of(h, hg).exists()

        # Stop: the proxy goes with the stub domain, its socket and state too.
        (pid,) = proxies(d)
        r = call(d, "Stop", "{}")
        assert r.returncode == 0, r.stderr
        wait_for(lambda: not proxies(d), what="the proxy to go with its stub domain")
        assert not os.path.exists(f"/proc/{pid}")  # reaped, not a zombie
        assert not socket_of(h, g).exists()
        assert h.xs_read(f"/local/domain/0/device-model/{s}") is None

        # Start: a new stub whose qemu has password auth, a new proxy, and the stored
        # password handed to its qemu over QMP, as libxl does after qemu-xen starts.
        r = call(d, "Start", "{}")
        assert r.returncode == 0, r.stderr
        s2 = h.domid("lx-dm")
        (argv2,) = proxies(d).values()
        assert argv2[2] == str(s2)
        assert vnc_arg(h, uuid)[1] == f"{VNC_IP}:0,password=on"
        wait_for(record.exists, what="the stored password to reach the new qemu")
        assert record.read_text() == secret
        # Now a new password reaches the running qemu at once.
        r = call(d, "SetDisplayPassword", "pw-second")
        assert r.returncode == 0, r.stderr
        assert record.read_text() == "pw-second"
        assert h.xs_read(f"/vm/{uuid}/vncpasswd") is None

        # The guest goes: so does the proxy.
        h.xl("destroy", "lx")
        wait_for(lambda: not proxies(d), what="the proxy to go with the guest")
        assert not socket_of(h, g).exists()
        assert d.guests()["hvmconfig"]["state"] == "running"


def test_a_proxy_that_dies_is_started_again(sim_host):
    h = sim_host
    d = start(h)
    with d:
        g, s = boot(h, d)
        (pid,) = proxies(d)
        os.kill(pid, 9)
        wait_for(lambda: proxies(d) and pid not in proxies(d),
                 what="a new proxy after the first died")
        assert get_display(d)["port"] == 5900
        assert "the QMP proxy killed by signal 9; starting it again" in d.log()


def test_the_daemon_stops_its_proxies_and_an_adopted_stub_gets_a_new_one(sim_host):
    h = sim_host
    d = start(h)
    with d:
        g, s = boot(h, d)
        (pid,) = proxies(d)
        d.stop()  # SIGTERM: stub domains keep running, their proxies do not
        assert not os.path.exists(f"/proc/{pid}")
        assert not socket_of(h, g).exists()
        assert h.domid("lx-dm") == s
        d.start()
        d.wait_state("lx", "running")
        (argv,) = proxies(d).values()
        assert argv[2] == str(s)
        assert get_display(d)["port"] == 5900


def test_a_proxy_that_cannot_run_fails_the_spawn(sim_host):
    h = sim_host
    d = start(h, vchan_socket_proxy=str(h.dir / "no-such-proxy"))
    with d:
        h.xl("create", HVM, 'name="lx"')
        d.wait_state("lx", "failed")
        reason = d.prop(path_of(d), "StateReason")
        assert "linking the stub domain" in reason and "no-such-proxy" in reason
        # `failed` is published as the destroy starts; the stub is gone once xl is done.
        wait_for(lambda: h.domid("lx-dm") is None, what="lx-dm destroyed")


@pytest.mark.parametrize("fault,method,name,text", [
    ("qmp-garbage", "GetDisplay", "SpawnFailed", "not a QMP message"),
    ("qmp-never-greet", "GetDisplay", "TimedOut", "waiting for the greeting"),
    ("qmp-stall", "SetDisplayPassword", "TimedOut", "in reply to change-vnc-password"),
])
def test_a_misbehaving_device_model_is_a_clear_error_within_the_timeout(
        sim_host, fault, method, name, text):
    h = sim_host
    # The timeout is the behaviour here: short, and long enough that the other caller's
    # ListGuests is answered while this caller still waits, on a busy machine too.
    d = start(h, 'vncpasswd = "pw-at-start"\n', qmp_timeout_ms=3000)  # qemu with password auth
    with d:
        boot(h, d)
        record = h.dir / "qmp" / "lx-dm.vnc-password"
        # The start's own change-vnc-password done first: the proxy serves one at a time.
        wait_for(lambda: record.exists() and record.read_text() == "pw-at-start",
                 what="the configured password to reach qemu")
        h.set_fault(fault, domain="lx-dm")
        args = ["'pw'"] if method == "SetDisplayPassword" else []
        began = time.monotonic()
        slow = h.spawn("gdbus", "call", "--system", "--dest", "org.xen.Stubdom",
                       "--object-path", path_of(d), "--method", f"{GUEST}.{method}", *args,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # While qemu keeps it waiting, the daemon answers everyone else: the other call
        # comes back while this one still waits for its timeout.
        assert d.busctl("call", "org.xen.Stubdom", "/org/xen/Stubdom",
                        "org.xen.Stubdom.Manager", "ListGuests").returncode == 0
        if name == "TimedOut":
            assert slow.poll() is None, "ListGuests was answered only after the stalled call"
        wait_process(slow, f"the {method} call to end")
        took = time.monotonic() - began
        err = slow.stderr.read()
        assert slow.returncode != 0
        assert f"org.xen.Stubdom.Error.{name}" in err, err
        assert "guest lx's device model" in err and text in err, err
        if name == "TimedOut":
            # It waited out qmp_timeout_ms, the one configured (the error names it).
            assert took >= 3.0 and "within 3 s" in err, (took, err)
        assert d.proc.poll() is None
        # The fault gone, the next call works: the channel was not left broken.
        h.clear_fault(fault, domain="lx-dm")
        assert get_display(d)["port"] == 5900
