"""Bad input over D-Bus gets the error *name* the contract promises (issue 4, DESIGN.md
section 5), from the real daemon, and changes nothing.

python-dbus's call_blocking lets a test send any signature, which busctl and gdbus
would refuse or convert on the client side.
"""

import dbus
import pytest

from simhost import SimHost
from stubdomd import EXAMPLES, Stubdomd
from test_dbus_helpers import (GUEST, MANAGER, MANAGER_PATH, connect, dbus_error, proxy,
                               raw_error, sv)

HVM = str(EXAMPLES / "hvmconfig")
INVALID_ARGS = "org.freedesktop.DBus.Error.InvalidArgs"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """One host for the module: `hvmconfig` running, `loose` unmanaged, `pv1` a PV domain."""
    pv = tmp_path_factory.mktemp("pv") / "pv1"
    # Its own kernel: a PV guest booted through PV-GRUB would be listed (as pv-grub).
    kernel = pv.parent / "vmlinuz"
    kernel.write_bytes(b"\x7fELF")
    pv.write_text(f'name = "pv1"\ntype = "pv"\nmemory = 32\nkernel = "{kernel}"\n')
    with SimHost() as host:
        with Stubdomd(host) as d:
            host.xl("create", HVM, "memory=32")
            host.xl("create", HVM, 'name="loose"', "memory=32")
            host.xl("create", pv)
            d.wait_state("hvmconfig", "running")
            d.wait_state("loose", "unmanaged")
            conn = connect(host)
            yield host, d, conn
            # Nothing a bad call did may have touched the guests or the daemon.
            assert d.proc.poll() is None, d.log()
            assert d.guests()["hvmconfig"]["state"] == "running"


def manager(conn):
    return proxy(conn, MANAGER_PATH, MANAGER)


def guest_of(env, name):
    host, d, conn = env
    return proxy(conn, d.guests()[name]["path"], GUEST)


def test_unknown_guest_is_no_such_guest(env):
    host, d, conn = env
    name, message = dbus_error(manager(conn).GetGuest, "no-such-vm")
    assert name == "org.xen.Stubdom.Error.NoSuchGuest"
    assert "no-such-vm" in message
    name, message = dbus_error(manager(conn).GetGuest, "00000000-0000-0000-0000-000000000000")
    assert name == "org.xen.Stubdom.Error.NoSuchGuest"
    name, message = dbus_error(manager(conn).GetGuestByDomid, dbus.UInt32(4242))
    assert name == "org.xen.Stubdom.Error.NoSuchGuest" and "4242" in message
    # The PV domain is no guest of ours either.
    name, _ = dbus_error(manager(conn).GetGuest, "pv1")
    assert name == "org.xen.Stubdom.Error.NoSuchGuest"
    # Attach of a domain that does not exist.
    name, _ = dbus_error(manager(conn).Attach, dbus.UInt32(4242), sv())
    assert name == "org.xen.Stubdom.Error.NoSuchGuest"


@pytest.mark.parametrize("where,method,signature,args", [
    ("manager", "GetGuest", "u", [5]),
    ("manager", "GetGuest", "", []),
    ("manager", "GetGuest", "ss", ["hvmconfig", "extra"]),
    ("manager", "GetGuestByDomid", "s", ["1"]),
    ("manager", "Attach", "sa{sv}", ["1", {}]),
    ("manager", "Attach", "u", [1]),
    ("guest", "Start", "s", ["now"]),
    ("guest", "Stop", "a{ss}", [{}]),
    ("guest", "Restart", "", []),
    ("guest", "Pause", "a{sv}", [{}]),
    ("guest", "Resume", "s", ["now"]),
    ("guest", "SetDisplay", "a{sv}", [{}]),
], ids=lambda v: v if isinstance(v, str) else None)
def test_wrong_argument_types_are_invalid_args(env, where, method, signature, args):
    host, d, conn = env
    path = MANAGER_PATH if where == "manager" else d.guests()["hvmconfig"]["path"]
    iface = MANAGER if where == "manager" else GUEST
    name, message = raw_error(conn, path, iface, method, signature, args)
    assert name == INVALID_ARGS, message


def test_unknown_option_keys_are_invalid_args_naming_the_key(env):
    host, d, conn = env
    guest = guest_of(env, "hvmconfig")
    for method in (guest.Start, guest.Stop, guest.Restart):
        name, message = dbus_error(method, sv({"force": dbus.Boolean(True)}))
        assert name == INVALID_ARGS and "'force'" in message, message
    name, message = dbus_error(manager(conn).Attach, dbus.UInt32(d.guests()["hvmconfig"]["domid"]),
                               sv({"stubdom_memory": dbus.UInt32(64)}))
    assert name == INVALID_ARGS and "'stubdom_memory'" in message, message
    name, message = dbus_error(guest.SetDisplay, "vnc-stubdom", sv({"listen": "0.0.0.0"}))
    assert name == INVALID_ARGS and "'listen'" in message, message
    # Nothing happened to the guest (Stop with a bad key did not stop it).
    assert d.guests()["hvmconfig"]["state"] == "running"


def test_a_mistyped_option_is_invalid_args_naming_the_key_and_type(env):
    guest = guest_of(env, "hvmconfig")
    name, message = dbus_error(guest.SetDisplay, "vnc-stubdom", sv({"port": "5900"}))
    assert name == INVALID_ARGS, message
    assert "'port'" in message and "'i'" in message, message
    name, message = dbus_error(guest.SetDisplay, "vnc-stubdom", sv({"address": dbus.Int32(1)}))
    assert name == INVALID_ARGS and "'address'" in message, message


def test_an_unknown_display_mode_is_invalid_display(env):
    guest = guest_of(env, "hvmconfig")
    name, message = dbus_error(guest.SetDisplay, "vnc-everywhere", sv())
    assert name == "org.xen.Stubdom.Error.InvalidDisplay" and "vnc-everywhere" in message


def test_attach_of_a_pv_domain_dom0_or_a_stub_domain_is_not_hvm(env):
    host, d, conn = env
    for domid in (host.domid("pv1"), 0, host.domid("hvmconfig-dm")):
        assert domid is not None
        name, message = dbus_error(manager(conn).Attach, dbus.UInt32(domid), sv())
        assert name == "org.xen.Stubdom.Error.NotHvm", f"domid {domid}: {name}: {message}"
    assert "pv1" not in d.guests()


def test_start_on_a_running_guest_is_invalid_state(env):
    host, d, conn = env
    guest = guest_of(env, "hvmconfig")
    stub = host.domid("hvmconfig-dm")
    name, message = dbus_error(guest.Start, sv())
    assert name == "org.xen.Stubdom.Error.InvalidState", message
    assert "running" in message
    assert host.domid("hvmconfig-dm") == stub


def test_commands_on_an_unmanaged_guest(env):
    """Stop and Restart of a guest stubdomd does not manage are InvalidState; Start reads
    its stub-domain configuration again (so one dropped in later applies) and, with none
    there, answers InvalidConfig naming the file it looked for."""
    host, d, conn = env
    guest = guest_of(env, "loose")
    for method in (guest.Stop, guest.Restart):
        name, message = dbus_error(method, sv())
        assert name == "org.xen.Stubdom.Error.InvalidState", message
        assert "loose" in message
    name, message = dbus_error(guest.Start, sv())
    assert name == "org.xen.Stubdom.Error.InvalidConfig", message
    assert f"{d.config_dir}/stubdom-loose" in message
    assert d.guests()["loose"]["state"] == "unmanaged"
    assert host.domid("loose-dm") is None
