"""The D-Bus API of the running stubdomd as busctl sees it (issue 4): introspect, call,
get-property, tree on the Manager, a guest and a helper object; GetManagedObjects lists
every guest with every property.

One simulated host for the module: two managed guests whose stub domains run, one
guest without a stub-domain configuration (unmanaged), and one supervised helper.
"""

import json
import subprocess
import xml.etree.ElementTree as ET

import pytest

from simhost import SimHost, command_line
from stubdomd import BUILD_ROOT, EXAMPLES, Stubdomd
from test_dbus_helpers import (BUS_NAME, GUEST, GUEST_PROPERTIES, HELPER, MANAGER,
                               MANAGER_PATH, OBJMGR, guest_path, unvariant)

HVM = str(EXAMPLES / "hvmconfig")
XML_DIR = EXAMPLES.parent / "dbus"
MANAGED = ["alpha", "beta"]
UNMANAGED = "loose"
HELPER_PATH = "/org/xen/Stubdom/helper/fs_backend"


@pytest.fixture(scope="module")
def daemon():
    with SimHost() as host:
        # A helper that runs: `sleep` in fs-backend's place (not the machine's /usr/sbin).
        d = Stubdomd(host, settings={"helpers": [
            {"name": "fs-backend", "path": "/bin/sleep", "args": ["3600"]}]})
        for name in MANAGED:
            d.write_config_dir_file(f"stubdom-{name}", (EXAMPLES / "stubdom-hvmconfig").read_text())
        with d:
            for name in MANAGED + [UNMANAGED]:
                host.xl("create", HVM, f'name="{name}"', "memory=32")
            for name in MANAGED:
                d.wait_state(name, "running")
            d.wait_state(UNMANAGED, "unmanaged")
            yield d


def busctl_ok(d, *args) -> str:
    r = d.busctl(*args)
    assert r.returncode == 0, f"busctl {' '.join(args)}: {r.stderr}"
    return r.stdout


def busctl_json(d, *args):
    return json.loads(busctl_ok(d, "--json=short", *args))


def xml_members(iface: str) -> dict[str, set[str]]:
    """{'method': {...}, 'property': {...}, 'signal': {...}} of one contract XML."""
    root = ET.parse(XML_DIR / f"{iface}.xml").getroot()
    node = root.find(f"interface[@name='{iface}']")
    members: dict[str, set[str]] = {"method": set(), "property": set(), "signal": set()}
    for child in node:
        if child.tag in members:
            members[child.tag].add(child.get("name"))
    return members


def introspect(d, path: str) -> dict[str, dict[str, tuple[str, str, str]]]:
    """`busctl introspect` parsed: {interface: {member: (type, signature, value)}}."""
    out = busctl_ok(d, "introspect", "--no-pager", "--no-legend", BUS_NAME, path)
    result: dict[str, dict] = {}
    current = None
    for line in out.splitlines():
        fields = line.split(None, 4)
        if len(fields) < 2:
            continue
        if fields[1] == "interface":
            current = result.setdefault(fields[0], {})
        elif fields[0].startswith(".") and current is not None:
            current[fields[0][1:]] = (fields[1], fields[2], line)
    return result


def members_by_kind(members: dict) -> dict[str, set[str]]:
    kinds: dict[str, set[str]] = {"method": set(), "property": set(), "signal": set()}
    for name, (kind, _, _) in members.items():
        kinds[kind].add(name)
    return kinds


def test_busctl_introspect_manager_has_every_member_of_the_xml(daemon):
    interfaces = introspect(daemon, MANAGER_PATH)
    assert members_by_kind(interfaces[MANAGER]) == xml_members(MANAGER)
    assert {"GetManagedObjects", "InterfacesAdded", "InterfacesRemoved"} <= set(interfaces[OBJMGR])
    manager = interfaces[MANAGER]
    assert manager["ListGuests"][:2] == ("method", "-")
    assert manager["Attach"][:2] == ("method", "ua{sv}")
    assert manager["GuestNew"][:2] == ("signal", "so")
    assert manager["Features"][:2] == ("property", "as")


def test_busctl_get_property_on_the_manager(daemon):
    version = busctl_json(daemon, "get-property", BUS_NAME, MANAGER_PATH, MANAGER, "Version")
    assert version["type"] == "s" and version["data"]
    xen = busctl_json(daemon, "get-property", BUS_NAME, MANAGER_PATH, MANAGER, "XenVersion")
    assert xen["data"].count(".") == 2, xen
    toolstack = busctl_json(daemon, "get-property", BUS_NAME, MANAGER_PATH, MANAGER, "Toolstack")
    assert toolstack["data"] == str(daemon.host.build / "xl")
    features = busctl_json(daemon, "get-property", BUS_NAME, MANAGER_PATH, MANAGER, "Features")
    assert features["type"] == "as" and "ioemu" in features["data"] and "attach" in features["data"]


def test_busctl_call_list_and_get_guest(daemon):
    rows = busctl_json(daemon, "call", BUS_NAME, MANAGER_PATH, MANAGER, "ListGuests")
    assert rows["type"] == "a(sssuuo)"
    guests = {row[0]: row for row in rows["data"][0]}
    assert sorted(guests) == sorted(MANAGED + [UNMANAGED])
    for name in MANAGED:
        _, uuid, state, domid, stub, path = guests[name]
        assert state == "running"
        assert domid == daemon.host.domid(name) and stub == daemon.host.domid(f"{name}-dm")
        assert path == guest_path(uuid)
        by_name = busctl_json(daemon, "call", BUS_NAME, MANAGER_PATH, MANAGER, "GetGuest", "s", name)
        by_uuid = busctl_json(daemon, "call", BUS_NAME, MANAGER_PATH, MANAGER, "GetGuest", "s", uuid)
        by_domid = busctl_json(daemon, "call", BUS_NAME, MANAGER_PATH, MANAGER,
                               "GetGuestByDomid", "u", str(domid))
        by_stub = busctl_json(daemon, "call", BUS_NAME, MANAGER_PATH, MANAGER,
                              "GetGuestByDomid", "u", str(stub))
        for answer in (by_name, by_uuid, by_domid, by_stub):
            assert answer == {"type": "o", "data": [path]}
    loose = guests[UNMANAGED]
    assert loose[2] == "unmanaged" and loose[4] == 0


def test_busctl_introspect_and_get_property_on_a_guest(daemon):
    path = daemon.guests()["alpha"]["path"]
    interfaces = introspect(daemon, path)
    assert members_by_kind(interfaces[GUEST]) == xml_members(GUEST)
    for name, signature in GUEST_PROPERTIES.items():
        assert interfaces[GUEST][name][:2] == ("property", signature), name
        # Every property but the constant ones is announced with PropertiesChanged.
        assert "emits-change" in interfaces[GUEST][name][2] or "const" in interfaces[GUEST][name][2]
    values = {name: daemon.prop(path, name) for name in GUEST_PROPERTIES}
    assert values["Name"] == "alpha" and values["State"] == "running"
    assert values["DomId"] == daemon.host.domid("alpha")
    assert values["StubDomId"] == daemon.host.domid("alpha-dm")
    assert values["Flavour"] == "ioemu"
    assert values["StateReason"] is not None and values["LastError"] == ""
    assert path == guest_path(values["UUID"])
    # The display as a method, consistent with the properties.
    display = busctl_json(daemon, "call", BUS_NAME, path, GUEST, "GetDisplay")["data"][0]
    display = {k: unvariant(v) for k, v in display.items()}
    assert {k: display.get(k) for k in ("mode", "address", "port")} == {
        "mode": values["DisplayMode"], "address": values["DisplayAddress"],
        "port": values["DisplayPort"]}
    assert "password" not in display


def test_busctl_tree_lists_the_manager_and_every_guest(daemon):
    tree = busctl_ok(daemon, "tree", "--list", BUS_NAME).split()
    assert MANAGER_PATH in tree
    for guest in daemon.guests().values():
        assert guest["path"] in tree
    guest_objects = [p for p in tree if p.startswith("/org/xen/Stubdom/guest/")]
    assert len(guest_objects) == len(MANAGED) + 1


def test_get_managed_objects_lists_every_guest_with_every_property(daemon):
    reply = busctl_json(daemon, "call", BUS_NAME, MANAGER_PATH, OBJMGR, "GetManagedObjects")
    assert reply["type"] == "a{oa{sa{sv}}}"
    objects = reply["data"][0]
    listed = daemon.guests()
    guests = {p: o for p, o in objects.items() if p.startswith("/org/xen/Stubdom/guest/")}
    assert sorted(guests) == sorted(g["path"] for g in listed.values())
    for path, interfaces in guests.items():
        props = interfaces[GUEST]
        assert {k: v["type"] for k, v in props.items()} == GUEST_PROPERTIES, path
        values = {k: v["data"] for k, v in props.items()}
        row = listed[values["Name"]]
        assert (values["UUID"], values["State"], values["DomId"], values["StubDomId"]) == (
            row["uuid"], row["state"], row["domid"], row["stub_domid"])
        assert values["State"] == daemon.prop(path, "State")


def test_the_helper_object_through_busctl(daemon):
    """The supervised helper (here a `sleep` standing in for fs-backend) has its object:
    every member of the Helper XML, listed by GetManagedObjects, and its methods work."""
    path = HELPER_PATH
    assert path in busctl_ok(daemon, "tree", "--list", BUS_NAME).split()
    assert members_by_kind(introspect(daemon, path)[HELPER]) == xml_members(HELPER)
    assert "helpers" in busctl_json(daemon, "get-property", BUS_NAME, MANAGER_PATH, MANAGER,
                                    "Features")["data"]
    objects = busctl_json(daemon, "call", BUS_NAME, MANAGER_PATH, OBJMGR,
                          "GetManagedObjects")["data"][0]
    props = {k: v["data"] for k, v in objects[path][HELPER].items()}
    assert set(props) == xml_members(HELPER)["property"]
    assert props["Name"] == "fs-backend" and props["State"] == "running"

    def helper(name):
        return busctl_json(daemon, "get-property", BUS_NAME, path, HELPER, name)["data"]

    first = helper("MainPID")
    assert first == props["MainPID"] and command_line(first) == ["/bin/sleep", "3600"]
    busctl_ok(daemon, "call", BUS_NAME, path, HELPER, "Restart")
    second = helper("MainPID")
    assert helper("State") == "running" and second not in (0, first)
    assert command_line(second) == ["/bin/sleep", "3600"]
    assert command_line(first) != ["/bin/sleep", "3600"]  # gone, or a new process's pid
    busctl_ok(daemon, "call", BUS_NAME, path, HELPER, "Stop")
    assert (helper("State"), helper("MainPID")) == ("stopped", 0)
    busctl_ok(daemon, "call", BUS_NAME, path, HELPER, "Start")
    assert helper("State") == "running" and helper("MainPID") not in (0, second)


def test_the_helper_interface_is_installed():
    installed = json.loads(subprocess.run(["meson", "introspect", "--installed", str(BUILD_ROOT)],
                                          capture_output=True, text=True, check=True).stdout)
    for iface in (MANAGER, GUEST, HELPER):
        xml = str(XML_DIR / f"{iface}.xml")
        assert xml in installed, f"{iface}.xml is not installed"
        assert installed[xml].endswith(f"/dbus-1/interfaces/{iface}.xml")
