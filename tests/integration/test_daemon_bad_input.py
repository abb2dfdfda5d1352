"""Bad input gets a clear error and loses nothing (issue 3)."""

import json
import os

from simhost import sim_host, wait_for  # noqa: F401  (fixture)
from stubdomd import EXAMPLES, STUBDOMD, Stubdomd

HVM = str(EXAMPLES / "hvmconfig")


def test_a_stub_config_with_a_syntax_error_fails_that_guest_only(sim_host):
    with Stubdomd(sim_host) as d:
        d.write_config_dir_file("stubdom-broken", 'kernel = "/usr/lib/xen/boot/ioemu-stubdom.gz"\n'
                                                  'memory = 32\nvif = [ "", \n')
        d.write_config_dir_file("stubdom-fine", (EXAMPLES / "stubdom-hvmconfig").read_text())
        sim_host.xl("create", HVM, 'name="broken"')
        sim_host.xl("create", HVM, 'name="fine"')
        broken = d.wait_state("broken", "failed")
        d.wait_state("fine", "running")
        reason = d.prop(broken["path"], "StateReason")
        assert f"{d.config_dir}/stubdom-broken:" in reason
        assert reason.split(f"{d.config_dir}/stubdom-broken:")[1].split(":")[0].isdigit(), reason
        assert d.proc.poll() is None
        assert sim_host.domid("broken-dm") is None


def run_daemon_with(sim_host, config_path):
    return sim_host.run(STUBDOMD, "--config", config_path,
                        env={"LD_PRELOAD": str(sim_host.shim)})


def test_stubdomd_json_with_an_unknown_key_names_it(sim_host, tmp_path):
    cfg = tmp_path / "stubdomd.json"
    cfg.write_text(json.dumps({"max_parallel_spawn": 4}))
    r = run_daemon_with(sim_host, cfg)
    assert r.returncode != 0
    assert str(cfg) in r.stderr
    assert "unknown key 'max_parallel_spawn'" in r.stderr


def test_stubdomd_json_with_a_wrong_type_names_the_key_and_the_type(sim_host, tmp_path):
    cfg = tmp_path / "stubdomd.json"
    cfg.write_text(json.dumps({"max_parallel_spawns": "four"}))
    r = run_daemon_with(sim_host, cfg)
    assert r.returncode != 0
    assert "'max_parallel_spawns'" in r.stderr and '"four"' in r.stderr


def test_an_unreadable_stubdomd_json_names_the_file(sim_host, tmp_path):
    cfg = tmp_path / "stubdomd.json"
    cfg.write_text("{}")
    os.chmod(cfg, 0)
    r = sim_host.run(STUBDOMD, "--config", cfg, user="nobody")
    assert r.returncode != 0
    assert str(cfg) in r.stderr
    missing = run_daemon_with(sim_host, tmp_path / "absent.json")
    assert missing.returncode != 0
    assert str(tmp_path / "absent.json") in missing.stderr
