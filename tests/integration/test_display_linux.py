"""OpenDisplay of a Linux-stub guest (issue 20): its display is carried like its QMP, over a
second vchan. In the stub its qemu serves VNC on a unix socket and the init offers it at
device-model/<guest>/vnc-vchan; in dom0 stubdomd starts a display proxy (Xen's
vchan-socket-proxy, the sim's here) when the display is first opened and relays its socket to
the client through the same relay as the other modes. On the simulated host the stub's end is
a real QEMU VNC server named as the stub's qemu is (its dm-argv's -name), so `stubdomctl
screenshot` writes a PNG made by gtk-vnc from it, compared pixel for pixel with that QEMU's
own screendump."""

import contextlib
import json
import socket

import dbus
import pytest

from simhost import sim_host, wait_for  # noqa: F401  (fixture)
from stubdomd import BUILD_ROOT, EXAMPLES, STUBDOMD, Stubdomd
from test_dbus_helpers import GUEST, TIMEOUT, Monitor, connect, proxy, sv
from test_display_open import client_changes, fd_count, rfb_handshake
from test_display_screenshot import read_png_rgb, server_screendump

HVM = str(EXAMPLES / "hvmconfig")
STUBDOMCTL = BUILD_ROOT / "cli" / "stubdomctl"

pytestmark = pytest.mark.skipif(not STUBDOMD.exists() or not STUBDOMCTL.exists(),
                                reason=f"needs {STUBDOMD} and {STUBDOMCTL}")


@contextlib.contextmanager
def linux_guest(host, guest_config="vnc = 0\nsdl = 0\n"):
    """stubdomd with guest `lx` running on a Linux stub; vnc = 0 by default: the vchan display
    needs no network display mode."""
    for name in ("DISPLAY", "XAUTHORITY"):
        host.env.pop(name, None)
    d = Stubdomd(host, settings={"qmp_timeout_ms": 600_000})
    d.write_config_dir_file("stubdom-lx",
                            f'stubdomain_kernel = "{host.dir}/boot/qemu-stubdom-linux-kernel"\n'
                            f'stubdomain_ramdisk = "{host.dir}/boot/qemu-stubdom-linux-rootfs"\n')
    d.write_config_dir_file("lx", guest_config)
    with d:
        host.xl("create", HVM, 'name="lx"')
        guest = d.wait_state("lx", "running")
        yield d, guest


def display_proxies(d):
    """The daemon's display proxies (vchan-socket-proxy children at a vnc-vchan): argvs."""
    return [argv for argv in d.children("vchan-socket-proxy").values()
            if argv[-2].endswith("/vnc-vchan")]


def open_display(host, path):
    fd = proxy(connect(host), path, GUEST).OpenDisplay(sv(), timeout=TIMEOUT)
    return socket.socket(fileno=fd.take())


def wait_left(d, baseline):
    wait_for(lambda: fd_count(d) == baseline, what="stubdomd's descriptors back to baseline",
             progress=lambda: fd_count(d))


def test_a_linux_stub_display_comes_over_its_vchan_one_client_at_a_time(sim_host):
    h = sim_host
    with linux_guest(h) as (d, guest):
        g, s = h.domid("lx"), h.domid("lx-dm")
        assert d.prop(guest["path"], "DisplayMode") == "none"
        assert display_proxies(d) == []  # started by the first OpenDisplay, not with the stub
        # The stub's end: its qemu's display vchan beside the QMP one, written by the stub.
        dm = f"/local/domain/{s}/device-model/{g}"
        for key in ("ring-ref", "event-channel"):
            assert h.xs_perms(f"{dm}/vnc-vchan/{key}") == [f"n{s}", "r0"]

        sock = open_display(h, guest["path"])
        assert sock.family == socket.AF_UNIX
        assert rfb_handshake(sock) == (640, 480, "QEMU (lx)")  # the stub's qemu, -name lx
        assert display_proxies(d) == [[str(h.build / "vchan-socket-proxy"), str(s),
                                        f"{dm}/vnc-vchan",
                                        str(h.dir / "run-xen" / f"vnc-stubdomd-{g}")]]
        assert "display proxy started" in d.log()

        # The proxy serves one connection at a time: a second client is refused, not left
        # waiting for a greeting that would come only when the first leaves.
        baseline = fd_count(d)
        with pytest.raises(dbus.exceptions.DBusException) as error:
            open_display(h, guest["path"])
        assert error.value.get_dbus_name() == "org.xen.Stubdom.Error.Busy"
        assert "1 client already" in error.value.get_dbus_message()
        assert fd_count(d) == baseline
        sock.close()

        # Once it left, the next one is served by the same proxy.
        wait_left(d, baseline - 2)  # its relay's two descriptors
        (argv,) = display_proxies(d)
        again = open_display(h, guest["path"])
        assert rfb_handshake(again)[:2] == (640, 480)
        assert display_proxies(d) == [argv]
        again.close()
        wait_left(d, baseline - 2)


def test_screenshot_of_a_linux_stub_guest_through_the_vchan(sim_host, tmp_path):
    h = sim_host
    with linux_guest(h) as (d, guest):
        s = h.domid("lx-dm")
        monitor = Monitor(h)
        monitor.sync(connect(h))
        png = tmp_path / "lx.png"
        r = h.run(STUBDOMCTL, "screenshot", "lx", png)
        assert r.returncode == 0, r.stderr
        assert r.stdout == f"lx: 640x480 screen saved to {png}\n"
        width, height, pixels = read_png_rgb(png)
        assert (width, height) == (640, 480)
        assert server_screendump(h, f"stub-{s}", tmp_path / "server.ppm") == (width, height, pixels)
        colours = {pixels[i:i + 3] for i in range(0, len(pixels), 3)}
        assert len(colours) >= 2  # QEMU's placeholder text on its background

        # The display proxy now runs (its output pipes are stubdomd's): once the first
        # client left, a second screenshot leaves stubdomd with the descriptors it had.
        monitor.wait(lambda _: client_changes(monitor, guest["path"]) == [(True, 1), (False, 0)],
                     what="DisplayClientChanged for the screenshot's connect and leave")
        baseline = fd_count(d)
        r = h.run(STUBDOMCTL, "--json", "screenshot", "lx", png)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == {"guest": "lx", "file": str(png), "width": 640,
                                        "height": 480, "desktop": "QEMU (lx)"}
        monitor.wait(lambda _: len(client_changes(monitor, guest["path"])) == 4,
                     what="DisplayClientChanged for the second screenshot")
        wait_left(d, baseline)
        monitor.stop()


def test_a_stopped_linux_stub_takes_its_display_proxy_along(sim_host):
    h = sim_host
    with linux_guest(h) as (d, guest):
        sock = open_display(h, guest["path"])
        rfb_handshake(sock)
        proxy(connect(h), guest["path"], GUEST).Stop(sv(), timeout=TIMEOUT)
        sock.settimeout(TIMEOUT)
        while sock.recv(65536):
            pass  # EOF: the relay ended with the stub's display
        sock.close()
        wait_for(lambda: not display_proxies(d), what="the display proxy to go with its stub")
        with pytest.raises(dbus.exceptions.DBusException) as error:
            open_display(h, guest["path"])
        assert error.value.get_dbus_name() == "org.xen.Stubdom.Error.InvalidState"
        assert "over a vchan) is not served now" in error.value.get_dbus_message()
