"""A guest whose config names a device model: the fake xl runs it in dom0 the way libxl
4.17 runs qemu-traditional, waits for it, and signals it on destroy."""

from simhost import BUILD, SOURCE_ROOT, process_gone, sim_host, wait_for  # noqa: F401

RECORD_DM = SOURCE_ROOT / "tests" / "xensim" / "testdata" / "record-dm"


def guest_config(tmp_path, *lines, name="dmguest"):
    cfg = tmp_path / f"{name}.cfg"
    cfg.write_text("\n".join([
        f'name = "{name}"',
        'type = "hvm"',
        "memory = 128",
        "vif = [ 'ip=10.0.1.1,mac=aa:00:00:12:23:34' ]",
        *lines,
    ]) + "\n")
    return cfg


def override(dm=RECORD_DM):
    return [f'device_model_override = "{dm}"',
            'device_model_version = "qemu-xen-traditional"']


def dm_env(tmp_path, mode="run"):
    return {"RECORD_DM_OUT": str(tmp_path / "argv"), "RECORD_DM_MODE": mode}


def test_device_model_runs_with_qemu_traditional_arguments(sim_host, tmp_path):
    h = sim_host
    cfg = guest_config(tmp_path, *override())
    h.xl("create", cfg, env=dm_env(tmp_path))
    argv = (tmp_path / "argv").read_text().splitlines()
    assert argv == [
        str(RECORD_DM), "-d", "1", "-domain-name", "dmguest",
        "-vnc", "127.0.0.1:0", "-vncunused",
        "-videoram", "4", "-boot", "cda", "-acpi", "-vcpu_avail", "0x01",
        "-net", "nic,vlan=0,macaddr=aa:00:00:12:23:34,model=rtl8139",
        "-net", "tap,vlan=0,ifname=tap1.0,bridge=xenbr0,script=no,downscript=no",
        "-M", "xenfv",
    ]
    assert (tmp_path / "argv.env").read_text().strip() == "XEN_DOMAIN_ID=1"
    # xl came back only once the model said so, and left it running.
    assert h.xs_read("/local/domain/0/device-model/1/state") == "running"
    pid = int(h.xs_read("/local/domain/1/image/device-model-pid"))
    assert not process_gone(pid)
    assert h.xs_read("/local/domain/1/platform/device-model") == "qemu-xen-traditional"
    assert h.domains()[1]["tot_kib"] == (128 + 4) * 1024  # Cirrus: exactly 4 MiB

    # libxl kills the device model with SIGHUP on destroy.
    h.xl("destroy", "dmguest")
    wait_for(lambda: (tmp_path / "argv.signals").exists(), what="the dm to be signalled")
    assert (tmp_path / "argv.signals").read_text().split() == ["hup"]
    wait_for(lambda: process_gone(pid), what="the device model to end")
    assert h.xs_read("/local/domain/0/device-model/1") is None


def test_display_options_reach_the_arguments(sim_host, tmp_path):
    h = sim_host
    cfg = guest_config(tmp_path, *override(), "vnc = 0", "sdl = 1", 'keymap = "de"',
                       "vcpus = 2", "stdvga = 1", "serial = 'pty'", 'boot = "d"')
    h.xl("create", cfg, env=dm_env(tmp_path))
    argv = (tmp_path / "argv").read_text().splitlines()
    args = " ".join(argv[1:])
    assert "-vnc" not in argv and "-nographic" not in argv
    assert "-sdl -disable-opengl -k de -serial pty -videoram 8 -std-vga -boot d" in args
    assert "-vcpus 2 -vcpu_avail 0x03" in args


def test_vnc_listen_and_password(sim_host, tmp_path):
    h = sim_host
    cfg = guest_config(tmp_path, *override(), 'vnclisten = "172.30.206.1"', "vncdisplay = 3",
                       "vncunused = 0", 'vncpasswd = "secret"')
    h.xl("create", cfg, env=dm_env(tmp_path))
    argv = (tmp_path / "argv").read_text().splitlines()
    assert argv[5:7] == ["-vnc", "172.30.206.1:3,password"]
    assert "-vncunused" not in argv
    vm = h.xs_read("/local/domain/1/vm")
    assert h.xs_read(f"{vm}/vncpasswd") == "secret"


def test_xend_style_device_model_key(sim_host, tmp_path):
    h = sim_host
    cfg = guest_config(tmp_path, f"device_model = '{RECORD_DM}'")
    r = h.xl("create", cfg, env=dm_env(tmp_path))
    assert "xl 4.17 ignores it" in r.stderr
    assert (tmp_path / "argv").read_text().splitlines()[1:3] == ["-d", "1"]


def test_device_model_that_exits_fails_create(sim_host, tmp_path):
    h = sim_host
    intro = h.watch("@releaseDomain")
    cfg = guest_config(tmp_path, *override())
    r = h.xl("create", cfg, env=dm_env(tmp_path, "exit"), check=False)
    assert r.returncode == 3
    assert "domain 1 device model: exited with error status 3 during startup" in r.stderr
    # libxl destroys what it had built.
    assert h.domid("dmguest") is None
    assert h.xs_read("/local/domain/1") is None
    intro.wait_for(2, what="@releaseDomain for the failed domain")


def test_device_model_that_never_runs_times_out(sim_host, tmp_path):
    h = sim_host
    h.set_setting("dm-timeout-ms", 400)
    cfg = guest_config(tmp_path, *override())
    r = h.xl("create", cfg, env=dm_env(tmp_path, "hang"), check=False)
    assert r.returncode == 3
    assert "domain 1 device model: startup timed out" in r.stderr
    assert h.domid("dmguest") is None
    assert h.run(BUILD / "xensim-tool", "procs", h.dir).stdout == ""


def test_device_model_not_executable(sim_host, tmp_path):
    cfg = guest_config(tmp_path, *override(tmp_path / "missing-dm"))
    r = sim_host.xl("create", cfg, check=False)
    assert r.returncode == 3
    assert "is not executable" in r.stderr
    assert sim_host.domid("dmguest") is None


def test_override_needs_qemu_traditional(sim_host, tmp_path):
    cfg = guest_config(tmp_path, f'device_model_override = "{RECORD_DM}"')
    r = sim_host.xl("create", cfg, check=False)
    assert r.returncode == 1
    assert "qemu-xen-traditional" in r.stderr


def test_down_ends_a_device_model(tmp_path):
    from simhost import SimHost
    host = SimHost()
    with host as h:
        h.xl("create", guest_config(tmp_path, *override()), env=dm_env(tmp_path))
        pid = int(h.xs_read("/local/domain/1/image/device-model-pid"))
    assert process_gone(pid)
