"""Display control (issue 5) end to end on the simulated host: the README's three set-ups
with its own example values, the rules refused with InvalidDisplay and their reasons,
SetDisplay followed by Restart, and a password that shows up nowhere but where the
stub's ioemu or the dom0 vfb backend reads it."""

import json

import pytest

from simhost import sim_host, wait_for  # noqa: F401  (fixture)
from stubdomd import EXAMPLES, Stubdomd

HVM = str(EXAMPLES / "hvmconfig")
GUEST = "org.xen.Stubdom.Guest"
README_NET = "'ip=10.0.1.1,mac=aa:00:00:12:23:34'"
DISKS = "disk = [ 'file:/tmp/test,hdb,r' ]\n"


def stub_config(vif0="''", vfb=None):
    text = 'kernel = "/usr/lib/xen/boot/ioemu-stubdom.gz"\n'
    text += f"vif = [ {vif0}, {README_NET} ]\n" + DISKS
    if vfb:
        text += f"vfb = [ '{vfb}' ]\n"
    return text


def start(host, stub, guest_cfg=None):
    # No X display leaks in from whoever runs the tests.
    for name in ("DISPLAY", "XAUTHORITY"):
        host.env.pop(name, None)
    d = Stubdomd(host)
    d.write_config_dir_file("stubdom-hvmconfig", stub)
    if guest_cfg is not None:
        d.write_config_dir_file("hvmconfig", guest_cfg)
    return d


def path_of(d):
    return d.guests()["hvmconfig"]["path"]


def get_display(d):
    r = d.busctl("--json=short", "call", "org.xen.Stubdom", path_of(d), GUEST, "GetDisplay")
    assert r.returncode == 0, r.stderr
    return {k: v["data"] for k, v in json.loads(r.stdout)["data"][0].items()}


def call(d, method, *args):
    """gdbus, whose failures carry the D-Bus error name (busctl prints only the message).
    Arguments in GVariant text: "'vnc-stubdom'", "{'address': <'172.30.206.1'>}"."""
    return d.host.run("gdbus", "call", "--system", "--dest", "org.xen.Stubdom",
                      "--object-path", path_of(d), "--method", f"{GUEST}.{method}", *args)


def generated(host):
    return (host.dir / "stubdomd-run" / "hvmconfig-dm.cfg").read_text()


def test_sdl_as_the_readme_says(sim_host):
    d = start(sim_host, stub_config(vfb="type=sdl,display=:0"), "vnc = 0\nsdl = 0\n")
    with d:
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "running")
        assert 'vfb = [ "type=sdl,display=:0" ]' in generated(sim_host)
        s = sim_host.domid("hvmconfig-dm")
        assert sim_host.xs_read(f"/local/domain/0/backend/vfb/{s}/0/sdl") == "1"
        assert d.prop(path_of(d), "DisplayMode") == "sdl"
        assert get_display(d) == {"mode": "sdl", "address": "", "port": -1,
                                  "password-set": False, "uri": ""}


def test_vnc_in_the_stub_domain_with_the_readmes_values(sim_host):
    guest_cfg = 'vnc = 1\nvnclisten = "172.30.206.1"\n'
    d = start(sim_host, stub_config(vif0="'ip=172.30.206.1'"), guest_cfg)
    with d:
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "running")
        cfg = generated(sim_host)
        assert 'vif = [ "ip=172.30.206.1", "ip=10.0.1.1,mac=aa:00:00:12:23:34" ]' in cfg
        assert "vfb" not in cfg
        g, s = sim_host.domid("hvmconfig"), sim_host.domid("hvmconfig-dm")
        uuid = d.guests()["hvmconfig"]["uuid"]
        assert sim_host.xs_read(f"/vm/{uuid}/image/dmargs") == \
            f" -d {g} -domain-name hvmconfig -vnc 172.30.206.1:0"
        assert sim_host.xs_read(f"/local/domain/0/backend/vif/{s}/0/ip") == "172.30.206.1"
        p = path_of(d)
        assert d.prop(p, "DisplayMode") == "vnc-stubdom"
        assert d.prop(p, "DisplayAddress") == "172.30.206.1"
        assert d.prop(p, "DisplayPort") == 5900
        assert get_display(d) == {"mode": "vnc-stubdom", "address": "172.30.206.1",
                                  "port": 5900, "password-set": False,
                                  "uri": "vnc://172.30.206.1:5900"}


def test_vnc_in_dom0_port_from_the_vfb_backend(sim_host):
    d = start(sim_host, stub_config(vfb="type=vnc,vncdisplay=3,vncunused=0"),
              "vnc = 0\nsdl = 0\n")
    with d:
        monitor = sim_host.spawn("busctl", "--system", "--json=short", "monitor",
                                 "--match", "type='signal',member='PropertiesChanged'",
                                 stdout=open(sim_host.dir / "monitor.log", "w"))
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "running")
        s = sim_host.domid("hvmconfig-dm")
        wait_for(lambda: sim_host.xs_read(f"/local/domain/{s}/console/vnc-port") == "5903",
                 what="the vfb backend's port")
        p = path_of(d)
        wait_for(lambda: d.prop(p, "DisplayPort") == 5903, what="DisplayPort")
        assert d.prop(p, "DisplayAddress") == "127.0.0.1"
        assert get_display(d)["uri"] == "vnc://127.0.0.1:5903"
        wait_for(lambda: "DisplayPort" in (sim_host.dir / "monitor.log").read_text(),
                 what="PropertiesChanged with DisplayPort")
        monitor.terminate()
        monitor.wait()


@pytest.mark.parametrize("guest_cfg,vif0,vfb,reason", [
    ('vnc = 1\nvnclisten = "vnc.example.org"\n', "'ip=172.30.206.1'", None,
     "hvmconfig:2: vnclisten \"vnc.example.org\" is not an IP address"),
    ('vnc = 1\nvnclisten = "127.0.0.1"\n', "'ip=127.0.0.1'", None, "loopback"),
    ('vnc = 1\nvnclisten = "172.30.206.1"\n', "'ip=172.30.206.2'", None,
     "stubdom-hvmconfig: vif: the reserved first vif has ip=172.30.206.2, which does not match"),
    ('vnc = 1\nvnclisten = "172.30.206.1"\n', "''", None, "has no ip="),
    ('vnc = 1\nsdl = 0\n', "''", "type=sdl,display=:0", "hvmconfig:1: vnc = 1"),
    ('vnc = 0\nsdl = 0\n', "''", "type=sdl", "needs an X display"),
])
def test_a_broken_rule_fails_the_guest_with_invalid_display(sim_host, guest_cfg, vif0, vfb,
                                                            reason):
    d = start(sim_host, stub_config(vif0=vif0, vfb=vfb), guest_cfg)
    with d:
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "failed")
        assert reason in d.prop(path_of(d), "StateReason")
        assert sim_host.domid("hvmconfig-dm") is None
        r = call(d, "Start", "{}")
        assert r.returncode != 0 and "InvalidDisplay" in r.stderr and reason in r.stderr, r.stderr


def test_the_reserved_vif_must_exist_for_vnc_stubdom(sim_host):
    d = start(sim_host, 'kernel = "/usr/lib/xen/boot/ioemu-stubdom.gz"\n' + DISKS)
    with d:
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "running")
        r = call(d, "SetDisplay", "vnc-stubdom", "{'address': <'172.30.206.1'>}")
        assert r.returncode != 0 and "InvalidDisplay" in r.stderr
        assert "reserved first vif" in r.stderr
        assert not (sim_host.dir / "stubdomd-state" / "display").exists() or \
            not list((sim_host.dir / "stubdomd-state" / "display").iterdir())


def test_set_display_then_restart_changes_the_generated_config(sim_host):
    d = start(sim_host, stub_config())
    with d:
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "running")
        assert get_display(d)["mode"] == "none"
        r = call(d, "SetDisplay", "vnc-stubdom", "{'address': <'127.0.0.1'>}")
        assert r.returncode != 0 and "InvalidDisplay" in r.stderr and "loopback" in r.stderr
        r = call(d, "SetDisplay", "vnc-stubdom",
                 "{'address': <'172.30.206.1'>, 'port': <int32 5901>}")
        assert r.returncode == 0, r.stderr
        assert "vif = [ \"\"," in generated(sim_host)  # not before the restart
        r = call(d, "Restart", "{}")
        assert r.returncode == 0, r.stderr
        d.wait_state("hvmconfig", "running")
        assert 'vif = [ "ip=172.30.206.1", ' in generated(sim_host)
        assert get_display(d)["uri"] == "vnc://172.30.206.1:5901"


def test_the_password_is_only_where_the_backend_reads_it(sim_host):
    secret = "pw-7f3a9c"
    d = start(sim_host, stub_config(vfb="type=vnc"), "vnc = 0\nsdl = 0\n")
    with d:
        sim_host.xl("create", HVM)
        d.wait_state("hvmconfig", "running")
        r = call(d, "SetDisplayPassword", secret)
        assert r.returncode == 0, r.stderr
        assert get_display(d)["password-set"] is True
        r = call(d, "Restart", "{}")
        assert r.returncode == 0, r.stderr
        d.wait_state("hvmconfig", "running")
        s = sim_host.domid("hvmconfig-dm")
        node = f"/local/domain/0/backend/vfb/{s}/0/vncpasswd"
        assert sim_host.xs_read(node) == secret
        assert sim_host.xs_perms(node) == ["n0"]
        p = path_of(d)
        props = d.busctl("--json=short", "introspect", "org.xen.Stubdom", p, GUEST).stdout
        assert secret not in props
        assert secret not in json.dumps(get_display(d))
        assert secret not in generated(sim_host)
        assert secret not in d.log()
