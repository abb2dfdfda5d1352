"""Guest.OpenDisplay (issue 20): a socket relayed by stubdomd to the guest's display — on the
simulated host a real QEMU VNC server behind the stub's vfb (tests/xensim: DIR/vnc/PORT.sock)
— with DisplayClientChanged on connect and leave, no descriptor kept once a client is gone,
several clients at once, and a clear error for a guest without a VNC display."""

import contextlib
import os
import socket
import struct

import dbus
import pytest

from simhost import sim_host, wait_for  # noqa: F401  (fixture)
from stubdomd import EXAMPLES, Stubdomd
from test_dbus_helpers import GUEST, TIMEOUT, Monitor, connect, payload, proxy, sv

HVM = str(EXAMPLES / "hvmconfig")
README_NET = "'ip=10.0.1.1,mac=aa:00:00:12:23:34'"


def stub_config(vfb=None):
    text = 'kernel = "/usr/lib/xen/boot/ioemu-stubdom.gz"\n'
    text += f"vif = [ '', {README_NET} ]\ndisk = [ 'file:/tmp/test,hdb,r' ]\n"
    if vfb:
        text += f"vfb = [ '{vfb}' ]\n"
    return text


@contextlib.contextmanager
def running_guest(host, vfb="type=vnc,vncdisplay=2,vncunused=0"):
    """stubdomd with the README's guest running, its display as `vfb` says."""
    for name in ("DISPLAY", "XAUTHORITY"):
        host.env.pop(name, None)
    d = Stubdomd(host)
    d.write_config_dir_file("stubdom-hvmconfig", stub_config(vfb))
    d.write_config_dir_file("hvmconfig", "vnc = 0\nsdl = 0\n")
    with d:
        host.xl("create", HVM)
        guest = d.wait_state("hvmconfig", "running")
        if vfb and "vnc" in vfb:
            wait_for(lambda: d.prop(guest["path"], "DisplayPort") == 5902, what="DisplayPort")
        yield d, guest


def open_display(host, path):
    """OpenDisplay as root: the handed-over descriptor, as a socket object."""
    fd = proxy(connect(host), path, GUEST).OpenDisplay(sv(), timeout=TIMEOUT)
    return socket.socket(fileno=fd.take())


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, f"EOF after {len(data)} of {n} bytes"
        data += chunk
    return data


def rfb_handshake(sock):
    """RFB 3.8 up to the ServerInit, security type None (the sim's server has no
    password): the framebuffer's width, height and the desktop's name."""
    assert recv_exactly(sock, 12) == b"RFB 003.008\n"
    sock.sendall(b"RFB 003.008\n")
    count = recv_exactly(sock, 1)[0]
    types = recv_exactly(sock, count)
    assert 1 in types, types
    sock.sendall(b"\x01")
    assert recv_exactly(sock, 4) == b"\0\0\0\0"  # SecurityResult OK
    sock.sendall(b"\x01")  # ClientInit, shared: other clients stay connected
    width, height = struct.unpack(">HH", recv_exactly(sock, 4))
    recv_exactly(sock, 16)  # pixel format
    name_length = struct.unpack(">I", recv_exactly(sock, 4))[0]
    return width, height, recv_exactly(sock, name_length).decode()


def fd_count(d):
    return len(os.listdir(f"/proc/{d.proc.pid}/fd"))


def client_changes(monitor, path):
    return [tuple(payload(m)) for m in monitor.signals("DisplayClientChanged", path)]


def test_open_display_speaks_rfb_from_the_vfb_backend_and_signals(sim_host):
    with running_guest(sim_host) as (d, guest):
        monitor = Monitor(sim_host)
        monitor.sync(connect(sim_host))
        sock = open_display(sim_host, guest["path"])
        assert sock.family == socket.AF_UNIX  # stubdomd's relay, not a port of dom0
        assert rfb_handshake(sock) == (640, 480, "QEMU (hvmconfig-dm-vfb)")
        # The signal goes out as the relay starts; the monitor may hear it a moment later.
        monitor.wait(lambda _: client_changes(monitor, guest["path"]) == [(True, 1)],
                     what="DisplayClientChanged for the new client")
        sock.close()
        monitor.wait(lambda _: client_changes(monitor, guest["path"]) == [(True, 1), (False, 0)],
                     what="DisplayClientChanged for the leaving client")
        monitor.stop()


def test_two_clients_at_once_both_work(sim_host):
    with running_guest(sim_host) as (d, guest):
        first = open_display(sim_host, guest["path"])
        second = open_display(sim_host, guest["path"])
        assert rfb_handshake(first)[:2] == (640, 480)
        assert rfb_handshake(second)[:2] == (640, 480)
        # The first still answers after the second joined (shared ClientInit): a
        # FramebufferUpdateRequest of one pixel gets a FramebufferUpdate (type 0).
        first.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, 1, 1))
        assert recv_exactly(first, 1) == b"\x00"
        first.close()
        second.close()


def test_clients_that_close_at_once_or_never_read_cost_no_descriptor(sim_host):
    with running_guest(sim_host) as (d, guest):
        baseline = fd_count(d)
        for _ in range(10):
            open_display(sim_host, guest["path"]).close()
        # One that asks for whole screens and never reads them: the relay stops reading
        # the server once its buffer is full, and all goes when the client closes.
        greedy = open_display(sim_host, guest["path"])
        rfb_handshake(greedy)
        for _ in range(20):
            greedy.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, 640, 480))
        silent = open_display(sim_host, guest["path"])  # never reads at all
        greedy.close()
        silent.close()
        wait_for(lambda: fd_count(d) == baseline, what="stubdomd's descriptors back to baseline",
                 progress=lambda: fd_count(d))


def test_stub_going_away_ends_the_client(sim_host):
    with running_guest(sim_host) as (d, guest):
        sock = open_display(sim_host, guest["path"])
        rfb_handshake(sock)
        baseline_clients = d.guests()["hvmconfig"]
        proxy(connect(sim_host), guest["path"], GUEST).Stop(sv(), timeout=TIMEOUT)
        sock.settimeout(TIMEOUT)
        while sock.recv(65536):
            pass  # EOF: the vfb backend went with the stub, and the relay with it
        assert baseline_clients["state"] == "running"
        sock.close()


@pytest.mark.parametrize("vfb,mode", [(None, "none"), ("type=sdl,display=:0", "sdl")])
def test_a_guest_without_a_vnc_display_is_refused_naming_its_mode(sim_host, vfb, mode):
    with running_guest(sim_host, vfb) as (d, guest):
        assert d.prop(guest["path"], "DisplayMode") == mode
        baseline = fd_count(d)
        with pytest.raises(dbus.exceptions.DBusException) as error:
            open_display(sim_host, guest["path"])
        assert error.value.get_dbus_name() == "org.xen.Stubdom.Error.InvalidDisplay"
        assert f"display mode {mode}" in error.value.get_dbus_message()
        assert fd_count(d) == baseline


def test_a_stopped_guest_has_no_display_served(sim_host):
    with running_guest(sim_host) as (d, guest):
        proxy(connect(sim_host), guest["path"], GUEST).Stop(sv(), timeout=TIMEOUT)
        with pytest.raises(dbus.exceptions.DBusException) as error:
            open_display(sim_host, guest["path"])
        assert error.value.get_dbus_name() == "org.xen.Stubdom.Error.InvalidState"
        assert "not served now" in error.value.get_dbus_message()
