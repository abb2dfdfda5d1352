"""stubdomd spawns, links and tears down the README's stub domain (issue 3), on the
simulated host with the real xenstored, a real dbus-daemon and the fake xl."""

import time

from simhost import sim_host, wait_for  # noqa: F401  (fixture)
from stubdomd import EXAMPLES, Stubdomd

HVM = str(EXAMPLES / "hvmconfig")


def hypervisor_target(host, domid):
    """xc_domain_set_target's effect, as the sim's domain table records it (getdomaininfo
    does not report a target, on real Xen either)."""
    entry = host.table().get(domid)
    return entry["target"] if entry else None


def test_readme_guest_gets_its_stub_domain_linked_as_the_toolstack_does(sim_host):
    with Stubdomd(sim_host) as d:
        sim_host.xl("create", HVM)
        # How soon is a benchmark figure (bench_spawn.py, guests=1), not a bound here: a
        # busy machine makes it later, not wrong.
        d.wait_state("hvmconfig", "running")
        g, s = sim_host.domid("hvmconfig"), sim_host.domid("hvmconfig-dm")
        assert s is not None and s != g

        # The generated config carries the stub config's kernel, disks and vifs.
        cfg = (sim_host.dir / "stubdomd-run" / "hvmconfig-dm.cfg").read_text()
        assert 'name = "hvmconfig-dm"' in cfg
        assert 'kernel = "/usr/lib/xen/boot/ioemu-stubdom.gz"' in cfg
        assert 'vif = [ "", "ip=10.0.1.1,mac=aa:00:00:12:23:34" ]' in cfg
        assert ('disk = [ "file:/tmp/install.iso,hdc:cdrom,r", "phy:/dev/sda6,hda,w", '
                '"file:/tmp/test,hdb,r" ]') in cfg
        assert f'extra = "-d {g}"' in cfg

        # Every key of DESIGN.md section 4, with its permissions, read back from xenstored.
        assert hypervisor_target(sim_host, s) == g
        assert sim_host.xs_read(f"/local/domain/{s}/target") == str(g)
        assert sim_host.xs_perms(f"/local/domain/{s}/target") == ["n0", f"r{s}"]
        assert sim_host.xs_read(f"/local/domain/{g}/image/device-model-domid") == str(s)
        assert sim_host.xs_perms(f"/local/domain/{g}/image/device-model-domid") == ["n0", f"r{g}"]
        assert sim_host.xs_perms(f"/local/domain/{s}/device-model/{g}") == [f"n{s}", f"r{g}"]
        assert sim_host.xs_read(f"/local/domain/{s}/device-model/{g}/state") == "running"
        assert sim_host.xs_perms(f"/local/domain/0/device-model/{g}") == ["n0", f"b{g}"]
        assert sim_host.xs_read(f"/local/domain/0/device-model/{g}/state") == "running"
        uuid = d.guests()["hvmconfig"]["uuid"]
        assert sim_host.xs_read(f"/vm/{uuid}/image/dmargs") == f" -d {g} -domain-name hvmconfig"
        assert sim_host.xs_perms(f"/vm/{uuid}/image/dmargs") == ["n0", f"r{s}"]
        log = d.log()
        assert f"[guest hvmconfig domid {g} stub {s}] stub domain is running" in log

        sim_host.xl("destroy", "hvmconfig")
        wait_for(lambda: sim_host.domid("hvmconfig-dm") is None,
                 what="the stub domain to go with its guest")
        wait_for(lambda: "hvmconfig" not in d.guests(), what="the guest to be dropped")
        assert sim_host.xs_read(f"/local/domain/0/device-model/{g}") is None
        assert sim_host.xs_read(f"/local/domain/{s}") is None
        assert set(sim_host.domains()) == {0}


def test_domains_stubdomd_must_not_touch_are_left_alone(sim_host, tmp_path):
    with Stubdomd(sim_host) as d:
        for name in ("plainhvm", "pvguest"):
            d.write_config_dir_file(f"stubdom-{name}", (EXAMPLES / "stubdom-hvmconfig").read_text())
        sim_host.xl("create", HVM, 'name="nostub"')          # HVM, no stub config
        pv = tmp_path / "pv.cfg"
        # A PV guest with its own kernel (one booted through PV-GRUB is listed, as pv-grub).
        kernel = tmp_path / "vmlinuz"
        kernel.write_bytes(b"\x7fELF")
        pv.write_text(f'name = "pvguest"\ntype = "pv"\nkernel = "{kernel}"\nmemory = 128\n')
        sim_host.xl("create", str(pv))
        # A stub domain itself: a PV domain with a target, made by hand.
        sim_host.xl("create", HVM, 'name="plainhvm"')
        d.wait_state("plainhvm", "running")
        time.sleep(0.5)  # give anything wrongly spawned a chance to appear
        guests = d.guests()
        assert guests["nostub"]["state"] == "unmanaged"
        assert "pvguest" not in guests
        assert "plainhvm-dm" not in guests
        names = {sim_host.run("xenstore-read", f"/local/domain/{i}/name").stdout.strip()
                 for i in sim_host.domains()}
        assert names == {"Domain-0", "nostub", "pvguest", "plainhvm", "plainhvm-dm"}
        reason = d.prop(guests["nostub"]["path"], "StateReason")
        assert reason == f"no stub-domain configuration {d.config_dir}/stubdom-nostub"


def test_a_guest_owned_name_node_is_ignored_and_the_log_says_why(sim_host):
    d = Stubdomd(sim_host)
    d.write_config_dir_file("stubdom-evil", (EXAMPLES / "stubdom-hvmconfig").read_text())
    sim_host.xl("create", HVM, 'name="evil"')
    g = sim_host.domid("evil")
    # As if the toolstack had left `name` writable and the guest had taken it.
    sim_host.xs_chmod(f"/local/domain/{g}/name", f"n{g}")
    with d:
        time.sleep(0.5)
        assert "evil" not in d.guests()
        assert sim_host.domid("evil-dm") is None
        assert f"/local/domain/{g}/name is owned by domain {g}, not dom0; ignoring it" in d.log()
