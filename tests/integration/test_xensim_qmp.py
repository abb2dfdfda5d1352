"""The simulated host's vchan-socket-proxy: Xen's command line, and in place of the vchan
bridge a QMP responder that answers as the Linux stub domain's qemu would (greeting,
capabilities, query-status, query-vnc from the guest's dm-argv, change-vnc-password and
set_password recorded for tests), with its fault switches."""

import json
import socket

import pytest

from simhost import BUILD, SOURCE_ROOT, STALL_SECONDS, sim_host, wait_for, wait_process  # noqa: F401

HVM = SOURCE_ROOT / "examples" / "hvmconfig"
STUB = SOURCE_ROOT / "examples" / "stubdom-hvmconfig"
PROXY = BUILD / "vchan-socket-proxy"


def linked_stub(h, dm_argv=("-xen-domid", "1", "-vnc", "10.0.0.5:1,password=on",
                            "-machine", "xenfv")):
    """A guest, its linked stub domain with `dm_argv`, unpaused; returns (guest, stub)."""
    h.xl("create", "-p", HVM)
    g = h.domid("hvmconfig")
    # A Linux stub domain (its kernel's name says so): its qemu publishes the QMP vchan.
    h.xl("create", "-p", STUB, 'name="hvmconfig-dm"',
         f'kernel="{h.dir}/boot/qemu-stubdom-linux-kernel"',
         f'ramdisk="{h.dir}/boot/qemu-stubdom-linux-rootfs"')
    s = h.domid("hvmconfig-dm")
    h.run(BUILD / "xensim", "set-target", h.dir, s, g, check=True)
    dm = f"/local/domain/{s}/device-model/{g}"
    h.run(BUILD / "xs-probe", "mkdir", dm, check=True)
    h.xs_chmod(dm, f"n{s}", f"r{g}")
    uuid = h.xs_read(f"/local/domain/{g}/vm").split("/")[-1]
    argv = f"/vm/{uuid}/image/dm-argv"
    for i, arg in enumerate(dm_argv):
        # "--": qemu's arguments start with a dash, xenstore-write's options too
        h.run("xenstore-write", "--", f"{argv}/{i + 1:03d}", arg, check=True)
        h.xs_chmod(f"{argv}/{i + 1:03d}", "n0", f"r{s}")
    h.xs_chmod(argv, "n0", f"r{s}")
    h.xl("unpause", str(s))
    return g, s


def start_proxy(h, g, s, sock=None):
    """The proxy, once it accepts: its socket's path exists from bind(), a connect is
    refused until listen(), and the state it writes after listen() says when (as libxl
    waits for it)."""
    sock = sock or str(h.dir / f"qmp-libxl-{g}")
    state = f"/local/domain/0/device-model/{s}/qmp-proxy-state"
    p = h.spawn(PROXY, f"--state-path={state}",
                s, f"/local/domain/{s}/device-model/{g}/qmp-vchan", sock,
                stdout=open(h.dir / "proxy.log", "a"), stderr=open(h.dir / "proxy.log", "a"))
    wait_for(lambda: h.xs_read(state) == "running" or p.poll() is not None,
             what="the proxy's running state")
    return p, sock


class Qmp:
    """A QMP client. What it waits for comes when the machine lets it (a reply stuck for
    the stall window fails); `silent(seconds)` checks that nothing comes, for a while."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(STALL_SECONDS)
        self.s.connect(path)
        self.f = self.s.makefile("rwb")

    def silent(self, seconds, read):
        self.s.settimeout(seconds)
        try:
            with pytest.raises(socket.timeout):
                read()
        finally:
            self.s.settimeout(STALL_SECONDS)

    def line(self):
        return self.f.readline().decode()

    def message(self):
        return json.loads(self.line())

    def execute(self, name, arguments=None, id_=1):
        request = {"execute": name, "id": id_}
        if arguments is not None:
            request["arguments"] = arguments
        self.f.write((json.dumps(request) + "\n").encode())
        self.f.flush()
        return self.message()

    def close(self):
        self.f.close()
        self.s.close()


def test_proxy_serves_qmp_as_the_stub_qemu_would(sim_host):
    h = sim_host
    g, s = linked_stub(h)
    p, sock = start_proxy(h, g, s)
    assert p.poll() is None
    q = Qmp(sock)
    greeting = q.message()
    assert "QMP" in greeting and "version" in greeting["QMP"]
    # qemu refuses commands before the negotiation
    assert q.execute("query-status")["error"]["class"] == "CommandNotFound"
    assert q.execute("qmp_capabilities", id_=2) == {"return": {}, "id": 2}
    assert q.execute("query-status", id_=3)["return"]["status"] == "running"
    vnc = q.execute("query-vnc", id_=4)["return"]
    assert (vnc["enabled"], vnc["host"], vnc["service"], vnc["auth"]) == \
        (True, "10.0.0.5", "5901", "vnc")
    assert q.execute("change-vnc-password", {"password": "s3cret"}, id_=5) == \
        {"return": {}, "id": 5}
    record = h.dir / "qmp" / "hvmconfig-dm.vnc-password"
    assert record.read_text() == "s3cret"
    assert (record.stat().st_mode & 0o777) == 0o600
    assert q.execute("set_password", {"protocol": "vnc", "password": "other"}, id_=6) == \
        {"return": {}, "id": 6}
    assert record.read_text() == "other"
    assert q.execute("nonsense", id_=7)["error"]["class"] == "CommandNotFound"
    q.close()
    log = (h.dir / "log" / "qmp-hvmconfig-dm.log").read_text().split()
    assert log[:3] == ["query-status", "qmp_capabilities", "query-status"]
    assert "s3cret" not in (h.dir / "log" / "qmp-hvmconfig-dm.log").read_text()
    # One client after another, as the real proxy serves them.
    q = Qmp(sock)
    assert "QMP" in q.message()
    q.close()


def test_query_vnc_without_vnc_in_dm_argv_reports_no_server(sim_host):
    h = sim_host
    g, s = linked_stub(h, dm_argv=("-xen-domid", "1", "-vnc", "none"))
    p, sock = start_proxy(h, g, s)
    q = Qmp(sock)
    q.message()
    q.execute("qmp_capabilities")
    assert q.execute("query-vnc")["return"] == {"enabled": False}
    assert q.execute("change-vnc-password", {"password": "x"})["error"]["desc"] == \
        "Could not set password"
    q.close()


def test_greeting_waits_for_the_vchan_and_a_gone_stub_ends_the_proxy(sim_host):
    h = sim_host
    h.set_fault("stubdom-never-running")  # its qemu never starts: no vchan
    g, s = linked_stub(h)
    p, sock = start_proxy(h, g, s)
    q = Qmp(sock)
    q.silent(0.5, q.message)
    h.xl("destroy", str(s))
    assert wait_process(p, "the proxy to exit with its stub domain") == 1
    assert "vchan client init" in (h.dir / "proxy.log").read_text()
    q.close()


def test_command_line_errors_are_the_real_proxys(sim_host):
    h = sim_host
    g, s = linked_stub(h)
    r = h.run(PROXY, s, "/local/domain/0/nothing")
    assert r.returncode == 1 and "usage:" in r.stderr
    r = h.run(PROXY, s, f"/local/domain/{s}/device-model/99/qmp-vchan", h.dir / "x")
    assert r.returncode == 1 and "vchan client init" in r.stderr
    taken = h.dir / "taken"
    taken.write_text("")
    r = h.run(PROXY, s, f"/local/domain/{s}/device-model/{g}/qmp-vchan", taken)
    assert r.returncode == 1 and "bind" in r.stderr


@pytest.mark.parametrize("fault", ["qmp-garbage", "qmp-never-greet", "qmp-stall"])
def test_faults(sim_host, fault):
    h = sim_host
    h.set_fault(fault, domain="hvmconfig-dm")
    g, s = linked_stub(h)
    p, sock = start_proxy(h, g, s)
    q = Qmp(sock)
    if fault == "qmp-garbage":
        first = q.line()
        with pytest.raises(ValueError):
            json.loads(first)
    elif fault == "qmp-never-greet":
        q.silent(0.5, q.line)
    else:
        assert "QMP" in q.message()
        assert q.execute("qmp_capabilities") == {"return": {}, "id": 1}
        q.silent(0.5, lambda: q.execute("query-vnc"))
    q.close()
