"""stubdomctl screenshot (issue 20): a PNG of the guest's screen made by gtk-vnc through the
socket OpenDisplay hands over, compared pixel for pixel with what the sim's VNC server (a
real QEMU behind the stub's vfb) says its screen is (its own QMP screendump); a caller
without org.xen.Stubdom.display is refused and gets no file."""

import json

import pytest

import pngread
from qemu_qmp import qmp_commands
from simhost import sim_host  # noqa: F401  (fixture)
from stubdomd import BUILD_ROOT, STUBDOMD
from test_display_open import running_guest

STUBDOMCTL = BUILD_ROOT / "cli" / "stubdomctl"

pytestmark = pytest.mark.skipif(not STUBDOMD.exists() or not STUBDOMCTL.exists(),
                                reason=f"needs {STUBDOMD} and {STUBDOMCTL}")


def read_png_rgb(path):
    """(width, height, RGB bytes) of the PNG at `path` (pngread: zlib alone)."""
    return pngread.read_png_rgb(path.read_bytes())


def read_ppm(path):
    data = path.read_bytes()
    magic, width, height, maxval, rest = data.split(maxsplit=4)
    assert magic == b"P6" and maxval == b"255"
    return int(width), int(height), rest[:int(width) * int(height) * 3]


def server_screendump(host, port, target):
    """The sim's VNC server's own picture of its screen: QEMU's screendump over its QMP."""
    qmp_commands(host.dir / "vnc" / f"{port}.qmp",
                 [{"execute": "screendump", "arguments": {"filename": str(target)}}])
    return read_ppm(target)


def test_screenshot_is_the_servers_screen(sim_host, tmp_path):
    with running_guest(sim_host):
        png = tmp_path / "screen.png"
        r = sim_host.run(STUBDOMCTL, "screenshot", "hvmconfig", png)
        assert r.returncode == 0, r.stderr
        assert r.stdout == f"hvmconfig: 640x480 screen saved to {png}\n"
        width, height, pixels = read_png_rgb(png)
        assert (width, height) == (640, 480)
        # QEMU's own view of the same screen, pixel for pixel.
        assert server_screendump(sim_host, 5902, tmp_path / "server.ppm") == (width, height,
                                                                               pixels)
        # Not a blank picture: QEMU's "Guest has not initialized the display (yet)." text
        # on its background, two colours at least.
        colours = {pixels[i:i + 3] for i in range(0, len(pixels), 3)}
        assert len(colours) >= 2
        r = sim_host.run(STUBDOMCTL, "--json", "screenshot", "hvmconfig", png)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == {"guest": "hvmconfig", "file": str(png), "width": 640,
                                        "height": 480, "desktop": "QEMU (hvmconfig-dm-vfb)"}


def test_screenshot_refused_without_the_display_action(sim_host, tmp_path):
    tmp_path.chmod(0o777)
    with running_guest(sim_host):
        png = tmp_path / "nobody.png"
        r = sim_host.run(STUBDOMCTL, "screenshot", "hvmconfig", png, user="nobody")
        assert r.returncode != 0
        assert "AccessDenied" in r.stderr or "not authorized" in r.stderr \
            or "polkit is not available" in r.stderr, r.stderr
        assert not png.exists()


def test_screenshot_of_a_guest_without_vnc_names_its_mode(sim_host, tmp_path):
    with running_guest(sim_host, None):
        png = tmp_path / "none.png"
        r = sim_host.run(STUBDOMCTL, "screenshot", "hvmconfig", png)
        assert r.returncode == 1
        assert "display mode none" in r.stderr and "(InvalidDisplay)" in r.stderr, r.stderr
        assert not png.exists()
