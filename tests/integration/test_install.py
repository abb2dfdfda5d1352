"""What `meson install` puts where, and that the installed pieces agree with each other
and with the documentation (issue 7)."""

import configparser
import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from simhost import SOURCE_ROOT
from stubdomd import BUILD_ROOT


def build_option(name):
    options = json.loads(subprocess.run(["meson", "introspect", "--buildoptions", str(BUILD_ROOT)],
                                        capture_output=True, text=True, check=True).stdout)
    return next(o["value"] for o in options if o["name"] == name)


@pytest.fixture(scope="module")
def destdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("destdir")
    subprocess.run(["meson", "install", "-C", str(BUILD_ROOT), "--destdir", str(d), "--no-rebuild",
                    "--quiet"], check=True, capture_output=True)
    return d


@pytest.fixture(scope="module")
def layout():
    prefix = build_option("prefix")
    p = lambda *parts: os.path.join(prefix, *parts)  # noqa: E731
    libdir = build_option("libdir")
    return {
        "prefix": prefix,
        "sbin": p(build_option("sbindir")),
        "bin": p(build_option("bindir")),
        "lib": p(libdir),
        "data": p(build_option("datadir")),
        "include": p(build_option("includedir")),
        "man": p(build_option("mandir")),
        "xen_bin": build_option("xen_bindir"),
        "unit": build_option("systemdsystemunitdir") or p("lib/systemd/system"),
    }


def expected_files(l):
    d = l["data"]
    return {
        f"{l['sbin']}/stubdomd",
        f"{l['sbin']}/stubdom-mkimage",
        f"{l['prefix']}/lib/stubdomd/stubimage/init",
        f"{l['bin']}/stubdomctl",
        f"{l['xen_bin']}/stubdom-dm",
        f"{l['include']}/stubdom-client/Client.hpp",
        f"{l['include']}/stubdom-client/Errors.hpp",
        f"{l['include']}/stubdom-client/Export.hpp",
        f"{l['include']}/stubdom-client/PvGrub.hpp",
        f"{l['include']}/stubdom-client/Types.hpp",
        f"{l['include']}/stubdom-client/stubdom-client.hpp",
        f"{l['lib']}/libstubdom-client.so",
        f"{l['lib']}/libstubdom-client.so.0",
        f"{l['lib']}/libstubdom-client.so.0.1.0",
        f"{l['lib']}/pkgconfig/stubdom-client.pc",
        f"{l['unit']}/stubdomd.service",
        f"{l['prefix']}/lib/tmpfiles.d/stubdomd.conf",
        f"{d}/dbus-1/interfaces/org.xen.Stubdom.Manager.xml",
        f"{d}/dbus-1/interfaces/org.xen.Stubdom.Guest.xml",
        f"{d}/dbus-1/interfaces/org.xen.Stubdom.Helper.xml",
        f"{d}/dbus-1/system-services/org.xen.Stubdom.service",
        f"{d}/dbus-1/system.d/org.xen.Stubdom.conf",
        f"{d}/polkit-1/actions/org.xen.Stubdom.policy",
        f"{d}/bash-completion/completions/stubdomctl",
        f"{d}/doc/stubdomd/examples/stubdomd.json",
        f"{l['man']}/man8/stubdomd.8",
        f"{l['man']}/man5/stubdomd.json.5",
        f"{l['man']}/man5/org.xen.Stubdom.5",
        f"{l['man']}/man1/stubdomctl.1",
        f"{l['man']}/man8/stubdom-dm.8",
        f"{l['man']}/man8/stubdom-mkimage.8",
    }


def test_meson_install_puts_every_file_in_its_place_and_nothing_else(destdir, layout):
    installed = {"/" + str(p.relative_to(destdir)) for p in destdir.rglob("*")
                 if p.is_file() or p.is_symlink()}
    expected = expected_files(layout)
    assert sorted(expected - installed) == [], "missing from the install"
    assert sorted(installed - expected) == [], "installed but not in the expected list"


def unit(destdir, layout):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(destdir / layout["unit"].lstrip("/") / "stubdomd.service")
    return parser


def test_the_unit_starts_the_installed_daemon_under_the_activation_file_s_name(destdir, layout):
    service = unit(destdir, layout)
    assert service["Service"]["ExecStart"] == f"{layout['sbin']}/stubdomd"
    assert service["Service"]["Type"] == "notify"
    assert "WatchdogSec" in service["Service"]
    activation = configparser.ConfigParser(interpolation=None)
    activation.optionxform = str
    activation.read(destdir / layout["data"].lstrip("/") / "dbus-1/system-services/org.xen.Stubdom.service")
    assert activation["D-BUS Service"]["Name"] == "org.xen.Stubdom"
    assert activation["D-BUS Service"]["SystemdService"] == service["Install"]["Alias"]
    policy = ET.parse(destdir / layout["data"].lstrip("/") / "dbus-1/system.d/org.xen.Stubdom.conf")
    owners = [e.get("own") for e in policy.iter("allow") if e.get("own")]
    assert owners == ["org.xen.Stubdom"]
    actions = ET.parse(destdir / layout["data"].lstrip("/") / "polkit-1/actions/org.xen.Stubdom.policy")
    assert {a.get("id") for a in actions.iter("action")} == {"org.xen.Stubdom.manage",
                                                              "org.xen.Stubdom.display"}


# Upstream Xen ships proc-xen.mount and xenstored.service; Debian 12's Xen packages ship
# neither (their xen.service, generated from /etc/init.d/xen, mounts xenfs and starts
# xenstored). The unit must start under both: a Requires= of a missing unit fails the start.
XEN_UNIT_LAYOUTS = {
    "upstream": ("proc-xen.mount", "xenstored.service", "xen.service", "xendomains.service"),
    "debian12": ("xen.service", "xendomains.service"),
}


@pytest.mark.parametrize("xen_units", sorted(XEN_UNIT_LAYOUTS))
def test_systemd_analyze_verify_accepts_the_unit(destdir, layout, tmp_path, xen_units):
    # Xen's own units are not on this machine: empty stand-ins satisfy the ordering and
    # Wants= lines, and ExecStart points into the destdir where the binary is.
    for name in XEN_UNIT_LAYOUTS[xen_units]:
        if name.endswith(".mount"):
            (tmp_path / name).write_text(
                "[Unit]\nDescription=stand-in\n[Mount]\nWhat=xenfs\nWhere=/proc/xen\nType=xenfs\n")
        else:
            (tmp_path / name).write_text("[Unit]\nDescription=stand-in\n[Service]\nExecStart=/bin/true\n")
    installed = destdir / layout["unit"].lstrip("/") / "stubdomd.service"
    text = installed.read_text().replace("ExecStart=", f"ExecStart={destdir}", 1)
    (tmp_path / "stubdomd.service").write_text(text)
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp_path / "stubdomd.service")],
                       capture_output=True, text=True, env={**os.environ, "SYSTEMD_UNIT_PATH": f"{tmp_path}:"})
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip() == "" and r.stdout.strip() == ""


def help_text(*argv):
    return subprocess.run([*map(str, argv), "--help"], capture_output=True, text=True).stdout


def options_in(text):
    return set(re.findall(r"(?<![\w-])(--?[a-zA-Z][\w-]*)", text)) - {"-h", "--help"}


def man(name):
    return (SOURCE_ROOT / "man" / f"{name}.scd").read_text()


def test_every_stubdomctl_subcommand_and_option_is_in_its_man_page():
    ctl = BUILD_ROOT / "cli" / "stubdomctl"
    top = help_text(ctl)
    subcommands = re.findall(r"^  (\w[\w-]*) ", top.split("Subcommands:")[1], re.M)
    page = man("stubdomctl.1")
    for sub in subcommands:
        assert f"*{sub}*" in page, f"subcommand {sub} is not in stubdomctl(1)"
        for option in options_in(help_text(ctl, sub).split("Options:")[-1]):
            assert f"*{option}*" in page, f"option {option} of {sub} is not in stubdomctl(1)"
    for option in options_in(top.split("Options:")[1].split("Subcommands:")[0]):
        assert f"*{option}*" in page, f"option {option} is not in stubdomctl(1)"


def test_every_stubdomd_option_and_setting_is_in_its_man_pages():
    page = man("stubdomd.8")
    for option in options_in(help_text(BUILD_ROOT / "daemon" / "stubdomd").split("Options:")[1]):
        assert f"*{option}*" in page, f"option {option} is not in stubdomd(8)"
    settings = man("stubdomd.json.5")
    example = json.loads((SOURCE_ROOT / "examples" / "stubdomd.json").read_text())
    for key in example:
        assert f"*{key}*" in settings, f"key {key} is not in stubdomd.json(5)"
    for key in example.get("helpers", [{}])[0]:
        assert f"*helpers[].{key}*" in settings, f"key helpers[].{key} is not in stubdomd.json(5)"


def test_stubdom_dm_s_options_are_in_its_man_page():
    page = man("stubdom-dm.8")
    for option in ("-d", "-domain-name"):
        assert f"*{option}*" in page


def test_every_member_of_the_dbus_interfaces_is_in_org_xen_stubdom_5():
    page = man("org.xen.Stubdom.5")
    for xml in sorted((SOURCE_ROOT / "dbus").glob("org.xen.Stubdom.*.xml")):
        for iface in ET.parse(xml).iter("interface"):
            assert f"INTERFACE {iface.get('name')}" in page
            for kind in ("method", "property", "signal"):
                for member in iface.iter(kind):
                    assert f"*{member.get('name')}*" in page, \
                        f"{iface.get('name')}.{member.get('name')} is not in org.xen.Stubdom(5)"
