"""The sim's VNC server behind a stub's vfb: a real QEMU speaking RFB on DIR/vnc/PORT.sock,
reached by a TCP connect() to PORT through the shim, ended with its domain."""

import os
import socket
import subprocess

from qemu_qmp import qmp_commands
from simhost import BUILD, SOURCE_ROOT, sim_host, wait_for  # noqa: F401

HVM = SOURCE_ROOT / "examples" / "hvmconfig"
STUB = SOURCE_ROOT / "examples" / "stubdom-hvmconfig"

# A TCP client in a process with the shim preloaded, as stubdomd is: prints the server's
# first 12 bytes (the RFB ProtocolVersion).
TCP_CLIENT = """
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
data = b""
while len(data) < 12:
    chunk = s.recv(12 - len(data))
    if not chunk:
        break
    data += chunk
sys.stdout.write(data.decode())
"""


def unpause_vnc_stub(h, name="hvmconfig-dm"):
    """A stub domain of guest 1 with a vnc vfb, linked and unpaused: its boot begins."""
    h.xl("create", "-p", STUB, f'name="{name}"', 'extra="-d 1"', "vfb=['type=vnc']")
    stub = h.domid(name)
    h.run(BUILD / "xensim", "set-target", h.dir, stub, 1, check=True)
    h.xl("unpause", str(stub))
    return stub


def boot_stub_with_vnc(h):
    h.set_setting("boot-delay-ms", 0)
    h.xl("create", "-p", HVM)
    stub = unpause_vnc_stub(h)
    log = h.dir / "log" / f"dom-{stub}.log"
    wait_for(lambda: log.exists() and "VNC server pid" in log.read_text(),
             what="the stub's VNC server", progress=lambda: log.exists() and log.stat().st_size)
    pid = int(log.read_text().split("VNC server pid ")[1].split()[0])
    return stub, pid


def qemu_comm(pid):
    try:
        return open(f"/proc/{pid}/comm").read().strip()
    except OSError:  # no entry, or (ESRCH) the process ended between open and read
        return None


def test_vfb_port_serves_rfb_from_qemu_and_ends_with_domain(sim_host):
    h = sim_host
    stub, pid = boot_stub_with_vnc(h)
    assert h.xs_read(f"/local/domain/{stub}/console/vnc-port") == "5900"
    assert qemu_comm(pid) == "qemu-system-x86"
    # The socket answers RFB straight away...
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(h.dir / "vnc" / "5900.sock"))
        assert s.recv(12) == b"RFB 003.008\n"
    # ... and so does TCP port 5900 for a process with the shim, on no real TCP port.
    env = dict(os.environ, **h.env, LD_PRELOAD=str(h.shim))
    out = subprocess.run(["/usr/bin/python3", "-c", TCP_CLIENT, "5900"], env=env,
                         capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout == "RFB 003.008\n"
    # Its QMP names the machine after the stub's vfb.
    greeting, (name,) = qmp_commands(h.dir / "vnc" / "5900.qmp", [{"execute": "query-name"}])
    assert "QMP" in greeting
    assert name["name"] == "hvmconfig-dm-vfb"
    # Destroying the domain ends its VNC server: no process is left behind.
    h.xl("destroy", str(stub))
    wait_for(lambda: qemu_comm(pid) is None, what="the VNC server to end")


def test_second_stub_takes_the_next_port_and_its_own_server(sim_host):
    h = sim_host
    stub, pid = boot_stub_with_vnc(h)
    second = unpause_vnc_stub(h, "second-dm")
    port = wait_for(lambda: h.xs_read(f"/local/domain/{second}/console/vnc-port"),
                    what="the second port")
    assert port == "5901"
    wait_for(lambda: (h.dir / "vnc" / "5901.sock").exists(), what="the second server")
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(h.dir / "vnc" / "5901.sock"))
        assert s.recv(12) == b"RFB 003.008\n"
    assert qemu_comm(pid) == "qemu-system-x86"


def test_vnc_server_off(sim_host):
    h = sim_host
    h.set_setting("vnc-server", 0)
    h.set_setting("boot-delay-ms", 0)
    h.xl("create", "-p", HVM)
    stub = unpause_vnc_stub(h)
    assert wait_for(lambda: h.xs_read(f"/local/domain/{stub}/console/vnc-port"),
                    what="vnc-port") == "5900"
    assert not (h.dir / "vnc" / "5900.sock").exists()
