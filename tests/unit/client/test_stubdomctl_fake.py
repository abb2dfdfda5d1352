"""stubdomctl against fake_stubdomd.py: every command, human and --json output, exit
codes and the messages a person reads."""
import json
import subprocess
import time

import pytest

from conftest import STUBDOMCTL, stop, wait_line


def test_list_human_and_json(fake, ctl):
    fake.add("hvmconfig", 5)
    fake.add("other", 7, state="stopped")
    result = ctl("list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "DOMID", "STUBDOM", "STATE", "UUID"]
    assert lines[1].split()[:4] == ["hvmconfig", "5", "6", "running"]
    assert lines[2].split()[:4] == ["other", "7", "-", "stopped"]

    result = ctl("list", "--json")
    guests = json.loads(result.stdout)
    assert [g["name"] for g in guests] == ["hvmconfig", "other"]
    first = guests[0]
    assert first["domid"] == 5 and first["stub_domid"] == 6 and first["state"] == "running"
    assert first["object_path"].startswith("/org/xen/Stubdom/guest/")
    assert set(first) == {"name", "uuid", "domid", "stub_domid", "state", "state_reason",
                          "flavour", "display_mode", "display_address", "display_port",
                          "restarts", "last_error", "stub_memory_mib", "stub_memory_used_kib",
                          "stub_cpu_time_ns", "object_path"}


def test_list_empty(fake, ctl):
    result = ctl("--json", "list")
    assert result.returncode == 0 and json.loads(result.stdout) == []


@pytest.mark.parametrize("reference", ["hvmconfig", "00000005-0000-4000-8000-000000000000",
                                       "5", "6"])
def test_status_by_name_uuid_domid_and_stub_domid(fake, ctl, reference):
    path = fake.add("hvmconfig", 5)
    result = ctl("status", reference, "--json")
    assert result.returncode == 0, result.stderr
    guest = json.loads(result.stdout)
    assert guest["name"] == "hvmconfig" and guest["object_path"] == path
    human = ctl("status", reference)
    assert "State:" in human.stdout and "running" in human.stdout
    assert "Stub domain:  6" in human.stdout


def test_status_unknown_guest(fake, ctl):
    result = ctl("status", "x")
    assert result.returncode == 1
    assert result.stderr == "stubdomctl: no guest named 'x'\n"
    result = ctl("status", "42")
    assert result.returncode == 1
    assert result.stderr == "stubdomctl: no guest with domid 42\n"
    for verb in ("start", "stop", "restart"):
        result = ctl(verb, "x")
        assert (result.returncode, result.stderr) == (1, "stubdomctl: no guest named 'x'\n")


def test_daemon_not_running(bus, ctl):
    for args in (["list"], ["status", "x"], ["start", "x"], ["helpers"], ["version"],
                 ["attach", "5"], ["reload"], ["helper", "stop", "fs-backend"]):
        result = ctl(*args)
        assert result.returncode == 1, args
        assert result.stderr == ("stubdomctl: stubdomd is not running "
                                 "(org.xen.Stubdom is not on the system bus)\n"), args


def test_no_bus_at_all(ctl, tmp_path):
    result = subprocess.run([STUBDOMCTL, "list"], capture_output=True, text=True,
                            env={"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=%s/none" % tmp_path})
    assert result.returncode == 1
    assert result.stderr.startswith("stubdomctl: cannot connect to the system bus: ")


def test_start_stop_restart(fake, ctl):
    fake.add("hvmconfig", 5, state="stopped")
    result = ctl("start", "hvmconfig")
    assert (result.returncode, result.stdout) == (0, "hvmconfig: running (stub domain 6)\n")
    result = ctl("start", "hvmconfig")
    assert result.returncode == 1
    assert result.stderr == ("stubdomctl: cannot start 'hvmconfig': guest 'hvmconfig' is "
                             "running (InvalidState)\n")
    assert ctl("stop", "5").stdout == "hvmconfig: stopped\n"
    result = ctl("restart", "hvmconfig", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["restarts"] == 1
    assert fake.calls() == ["Start", "Start", "Stop", "Restart"]


def test_start_and_restart_pass_stub_memory_as_given(fake, ctl):
    fake.add("hvmconfig", 5, state="stopped")
    assert ctl("start", "hvmconfig", "--stub-memory", "500M").returncode == 0
    assert ctl("restart", "hvmconfig", "--stub-memory", "1G").returncode == 0
    assert ctl("restart", "hvmconfig").returncode == 0
    assert fake.calls() == ["Start stub-memory=500M", "Restart stub-memory=1G", "Restart"]


def test_start_failure_names_the_reason(fake, ctl):
    fake.add("hvmconfig", 5, state="stopped")
    fake.control.FailNext(5, "org.xen.Stubdom.Error.SpawnFailed",
                          "xl create failed: exit status 3")
    result = ctl("start", "hvmconfig")
    assert result.returncode == 1
    assert result.stderr == ("stubdomctl: cannot start 'hvmconfig': xl create failed: exit "
                             "status 3 (SpawnFailed)\n")


def test_attach(fake, ctl):
    fake.add("hvmconfig", 5, state="pending")
    result = ctl("attach", "5")
    assert (result.returncode, result.stdout) == (0, "hvmconfig: running (stub domain 6)\n")
    result = ctl("attach", "9")
    assert result.returncode == 1
    assert "cannot attach domain 9: there is no domain 9 (NoSuchGuest)" in result.stderr


def test_timeout_option(fake, ctl):
    fake.add("hvmconfig", 5, state="pending")
    result = ctl("--timeout", "0.05", "attach", "5")  # the fake answers after 150 ms
    assert result.returncode == 1
    assert result.stderr.startswith("stubdomctl: cannot attach domain 5: ")
    assert result.stderr.endswith("(NoReply)\n") or "(Timeout" in result.stderr


def test_access_denied_as_nobody(fake, ctl):
    fake.add("hvmconfig", 5)
    assert ctl("list", as_nobody=True).returncode == 0  # reading is open
    assert ctl("status", "hvmconfig", as_nobody=True).returncode == 0
    for args in (["stop", "hvmconfig"], ["start", "hvmconfig"], ["restart", "hvmconfig"],
                 ["attach", "5"], ["reload"], ["helper", "restart", "fs-backend"]):
        result = ctl(*args, as_nobody=True)
        assert result.returncode == 1, args
        assert result.stderr.startswith("stubdomctl: permission denied: "), result.stderr
        assert "org.xen.Stubdom.manage" in result.stderr
    assert fake.calls() == []


def test_helpers(fake, ctl):
    result = ctl("helpers")
    assert result.stdout.splitlines()[1].split() == ["fs-backend", "running", "4242", "0", "-"]
    helpers = json.loads(ctl("helpers", "--json").stdout)
    assert helpers == [{"name": "fs-backend", "state": "running", "main_pid": 4242,
                        "restarts": 0, "last_exit": "",
                        "object_path": "/org/xen/Stubdom/helper/fs_backend"}]
    assert ctl("helper", "stop", "fs-backend").stdout == "fs-backend: stopped\n"
    assert ctl("helper", "start", "fs-backend").stdout == "fs-backend: running\n"
    restarted = json.loads(ctl("helper", "restart", "fs-backend", "--json").stdout)
    assert restarted["restarts"] == 1
    result = ctl("helper", "stop", "nope")
    assert (result.returncode, result.stderr) == (1, "stubdomctl: no helper named 'nope'\n")


def test_reload_and_version(fake, ctl):
    assert ctl("reload").returncode == 0
    assert fake.calls() == ["Reload"]
    version = json.loads(ctl("version", "--json").stdout)
    assert version == {"version": "0.1.0-fake", "xen_version": "4.17.0",
                       "features": ["ioemu", "attach", "helpers"], "toolstack": "/usr/sbin/xl"}


@pytest.mark.parametrize("args", [[], ["bogus"], ["status"], ["attach", "x"], ["helper"],
                                  ["helper", "kick", "fs-backend"], ["--timeout", "0", "list"],
                                  ["list", "extra"]])
def test_usage_errors_exit_2(ctl, args):
    result = ctl(*args)
    assert result.returncode == 2, (args, result.stderr)
    assert result.stderr


@pytest.mark.parametrize("command", [[], ["list"], ["status"], ["start"], ["stop"],
                                     ["restart"], ["attach"], ["reload"], ["helpers"],
                                     ["helper"], ["helper", "start"], ["monitor"],
                                     ["version"]])
def test_help_everywhere(ctl, command):
    result = ctl(*command, "--help")
    assert result.returncode == 0
    assert "Usage: stubdomctl" in result.stdout


def monitor(env, *args):
    process = subprocess.Popen([STUBDOMCTL, "monitor", *args], env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_line(process.stderr, "stubdomctl: monitoring")
    return process


def test_monitor_human(fake, env):
    process = monitor(env)
    try:
        fake.add("hvmconfig", 5, state="pending")
        assert wait_line(process.stdout, "added").strip() == \
            "added hvmconfig domid=5 state=pending"
        fake.control.SetState("hvmconfig", "failed", "no stub config")
        assert wait_line(process.stdout, "changed").strip() == \
            "changed hvmconfig State='failed' StateReason='no stub config'"
        fake.control.RemoveGuest("hvmconfig")
        assert wait_line(process.stdout, "removed").strip() == "removed hvmconfig domid=5"
        process.send_signal(2)  # SIGINT
        assert process.wait(5) == 0
    finally:
        stop(process)


def test_monitor_json_and_daemon_restart(fake, env):
    fake.add("kept", 3)
    process = monitor(env, "--json")
    try:
        fake.add("hvmconfig", 5, state="pending")
        event = json.loads(wait_line(process.stdout, '"added"').splitlines()[-1])
        assert event["event"] == "added" and event["guest"]["name"] == "hvmconfig"
        fake.control.SetState("hvmconfig", "running", "")
        event = json.loads(wait_line(process.stdout, '"changed"').splitlines()[-1])
        assert event["changed"] == {"state": "running"}
        assert event["guest"]["domid"] == 5

        # stubdomd restarts: the new one knows "kept" and a new guest only. The monitor
        # reports the difference, with no guest doubled.
        fake.stop()
        assert json.loads(wait_line(process.stdout, "service").splitlines()[-1])["event"] == "service-stopped"
        fake.start(guests=[("kept", 3), ("newer", 9)])
        events = []
        while not any(e["event"] == "added" for e in events):
            events.append(json.loads(wait_line(process.stdout, "event", 5).splitlines()[-1]))
        seen = [(e["event"], e.get("guest", {}).get("name")) for e in events]
        assert seen == [("service-started", None), ("removed", "hvmconfig"),
                        ("added", "newer")]
        process.terminate()
        assert process.wait(5) == 0
    finally:
        stop(process)
