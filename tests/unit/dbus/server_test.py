"""The D-Bus server (DbusServer over fake services) on a private system-like bus.

Real clients: python-dbus as root, gdbus/busctl as `nobody` through setpriv, and
python3-dbusmock's polkitd. Every test gets its own dbus-daemon and server, and both
are stopped at the end, also on failure. The server must exit 0 when told to stop:
a test that crashed it fails in teardown.

Environment (set by meson): TEST_SERVER (the binary), BUS_CONF_IN, POLICY (the
project's org.xen.Stubdom.conf), XML_DIR (dbus/, the contract).
"""
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

import dbus
import dbus.mainloop.glib
import pytest
from gi.repository import GLib

dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)

BUS_NAME = 'org.xen.Stubdom'
MANAGER_PATH = '/org/xen/Stubdom'
MANAGER = 'org.xen.Stubdom.Manager'
GUEST = 'org.xen.Stubdom.Guest'
HELPER = 'org.xen.Stubdom.Helper'
PROPS = 'org.freedesktop.DBus.Properties'
OBJMGR = 'org.freedesktop.DBus.ObjectManager'
ALPHA = '6c3a1f2e-8d4b-4b7e-9f10-0a1b2c3d4e5f'  # running, domid 5, stub 6
BETA = '0b9e7d6c-5a4f-4e3d-8c2b-1a0f9e8d7c6b'  # stopped, domid 7
HELPER_PATH = '/org/xen/Stubdom/helper/fs_backend'
NOBODY = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']
TIMEOUT = 10


def guest_path(uuid):
    # sd_bus_path_encode: every character but [A-Za-z0-9], and a leading digit, as _xx.
    return '/org/xen/Stubdom/guest/' + ''.join(
        c if c.isascii() and c.isalnum() and not (i == 0 and c.isdigit()) else '_%02x' % ord(c)
        for i, c in enumerate(uuid))


# python-dbus keeps a closed connection's GLib watch; if the Python object is then
# freed, a late message makes the next GLib iteration fail in a later test. Keeping
# every connection referenced until the end of the run avoids that.
_connections = []


def connect(address):
    conn = dbus.bus.BusConnection(address)
    _connections.append(conn)
    return conn


def sv(options=None):
    """An a{sv} (python-dbus cannot guess the type of an empty or uniform dict)."""
    return dbus.Dictionary(options or {}, signature='sv')


def spin_until(condition, timeout=TIMEOUT):
    """Runs the GLib loop (signals, async replies) until condition() holds."""
    ctx = GLib.MainContext.default()
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting')
        ctx.iteration(False) or time.sleep(0.01)


def spin_for(seconds):
    ctx = GLib.MainContext.default()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ctx.iteration(False) or time.sleep(0.01)


@pytest.fixture
def bus():
    """A private dbus-daemon with the project's policy; yields its address."""
    tmp = tempfile.mkdtemp(prefix='stubdomd-dbus-test-')
    os.chmod(tmp, 0o755)  # `nobody` must reach the socket
    socket = os.path.join(tmp, 'system_bus_socket')
    with open(os.environ['BUS_CONF_IN']) as f:
        conf = f.read().replace('@SOCKET@', socket).replace('@POLICY@', os.environ['POLICY'])
    conf_path = os.path.join(tmp, 'bus.conf')
    with open(conf_path, 'w') as f:
        f.write(conf)
    daemon = subprocess.Popen(['dbus-daemon', '--config-file=' + conf_path, '--nofork',
                               '--print-address=1'], stdout=subprocess.PIPE, text=True)
    try:
        address = daemon.stdout.readline().strip()
        assert address, 'dbus-daemon did not start'
        yield address
    finally:
        daemon.terminate()
        daemon.wait(TIMEOUT)
        shutil.rmtree(tmp, ignore_errors=True)


class Server:
    """The test server process and its stdin/stdout protocol (see TestServer.cpp)."""

    def __init__(self, address):
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address)
        self.proc = subprocess.Popen([os.environ['TEST_SERVER']], env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.lines = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        ready = self.expect('ready ')
        self.unique_name = ready.split()[1]

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip('\n'))
        self.lines.put(None)

    def next_line(self, timeout=TIMEOUT):
        line = self.lines.get(timeout=timeout)
        assert line is not None, 'test server exited (code %s)' % self.proc.poll()
        return line

    def expect(self, prefix, timeout=TIMEOUT):
        """Skips lines until one starts with prefix (async calls were sent already)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=0.02)
            except queue.Empty:
                line = ''
            if line == '':
                if time.monotonic() > deadline:
                    raise AssertionError('server never said ' + str(prefix))
                continue
            assert line is not None, 'test server exited (code %s)' % self.proc.poll()
            if line.startswith(prefix):
                return line

    def cmd(self, line):
        self.proc.stdin.write(line + '\n')
        self.proc.stdin.flush()
        answer = self.expect(('ok', 'fail'))
        assert answer == 'ok', answer

    def pending(self):
        self.proc.stdin.write('pending\n')
        self.proc.stdin.flush()
        count = int(self.expect('pending-replies ').split()[1])
        self.expect('ok')
        return count

    def close(self):
        self.proc.stdin.close()  # EOF stops the server
        try:
            return self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


@pytest.fixture
def server(bus):
    srv = Server(bus)
    try:
        yield srv
    finally:
        code = srv.close()
    assert code == 0, 'test server exited with %s' % code


@pytest.fixture
def client(bus, server):
    conn = connect(bus)
    yield conn
    conn.close()


def obj(client, path):
    return client.get_object(BUS_NAME, path, introspect=False)


def call_error(method, *args, **kwargs):
    with pytest.raises(dbus.exceptions.DBusException) as info:
        method(*args, **kwargs)
    return info.value.get_dbus_name(), info.value.get_dbus_message()


class AsyncCall:
    """A method call whose reply we wait for in the GLib loop."""

    def __init__(self, method, *args, **kwargs):
        self.done = False
        self.result = None
        self.error = None
        method(*args, reply_handler=self._reply, error_handler=self._error, timeout=60, **kwargs)

    def _reply(self, *result):
        self.done, self.result = True, result

    def _error(self, error):
        self.done, self.error = True, error


def nobody(*argv, **kwargs):
    """Runs a client as uid/gid 65534 with no groups; returns the CompletedProcess."""
    env = dict(os.environ, HOME='/tmp')
    return subprocess.run(NOBODY + list(argv), env=env, capture_output=True, text=True,
                          timeout=TIMEOUT, **kwargs)


def gdbus_call(address, path, method, *args):
    return ['gdbus', 'call', '--address', address, '--dest', BUS_NAME, '--object-path', path,
            '--method', method] + list(args)


# ---- contract ---------------------------------------------------------------------------

def xml_members(iface):
    root = ET.parse(os.path.join(os.environ['XML_DIR'], iface + '.xml')).getroot()
    node = root.find("interface[@name='%s']" % iface)
    return {(child.tag, child.get('name')) for child in node if child.tag != 'annotation'}


def introspected_members(client, path, iface):
    xml = obj(client, path).Introspect(dbus_interface='org.freedesktop.DBus.Introspectable')
    node = ET.fromstring(xml).find("interface[@name='%s']" % iface)
    assert node is not None, iface + ' missing on ' + path
    return {(child.tag, child.get('name')) for child in node if child.tag != 'annotation'}


def test_introspection_has_every_member_of_the_xml(client):
    assert introspected_members(client, MANAGER_PATH, MANAGER) == xml_members(MANAGER)
    assert introspected_members(client, guest_path(ALPHA), GUEST) == xml_members(GUEST)
    assert introspected_members(client, HELPER_PATH, HELPER) == xml_members(HELPER)
    xml = obj(client, MANAGER_PATH).Introspect(
        dbus_interface='org.freedesktop.DBus.Introspectable')
    assert OBJMGR in xml


def test_busctl_tree_shows_manager_guests_and_helper(bus, server):
    out = subprocess.run(['busctl', '--address=' + bus, 'tree', '--list', BUS_NAME],
                         capture_output=True, text=True, check=True).stdout.split()
    assert MANAGER_PATH in out
    assert guest_path(ALPHA) in out and guest_path(BETA) in out
    assert HELPER_PATH in out


def test_manager_properties(client):
    props = obj(client, MANAGER_PATH).GetAll(MANAGER, dbus_interface=PROPS)
    assert props == {'Version': '0.1.0-test', 'XenVersion': '4.17.0',
                     'Toolstack': '/usr/sbin/xl', 'Features': ['ioemu', 'attach']}


# ---- reading ----------------------------------------------------------------------------

def test_list_guests_shows_the_exported_guests(client):
    guests = obj(client, MANAGER_PATH).ListGuests(dbus_interface=MANAGER)
    assert sorted(tuple(g) for g in guests) == sorted([
        ('alpha', ALPHA, 'running', 5, 6, guest_path(ALPHA)),
        ('beta', BETA, 'stopped', 7, 0, guest_path(BETA)),
    ])


def test_list_guests_follows_a_state_change_a_rename_an_addition_and_a_removal(client, server):
    # ListGuests answers from rows kept ready (GuestRows): each change must show in the
    # very next call (server.cmd returns once the server has handled the change; its
    # signal is awaited too, so the change is the one the clients were told of).
    manager = obj(client, MANAGER_PATH)
    changed = []
    client.add_signal_receiver(lambda *args: changed.append(args), 'PropertiesChanged', PROPS)

    def listed():
        return sorted(tuple(g) for g in manager.ListGuests(dbus_interface=MANAGER))

    server.cmd('state %s starting spawning the stub domain' % BETA)
    spin_until(lambda: len(changed) == 1)
    assert ('beta', BETA, 'starting', 7, 0, guest_path(BETA)) in listed()
    server.cmd('rename %s beta-renamed' % BETA)
    spin_until(lambda: len(changed) == 2)
    assert ('beta-renamed', BETA, 'starting', 7, 0, guest_path(BETA)) in listed()
    server.cmd('port %s 5901' % ALPHA)  # not a listed field: the rows stay as they are
    spin_until(lambda: len(changed) == 3)
    assert listed() == sorted([('alpha', ALPHA, 'running', 5, 6, guest_path(ALPHA)),
                               ('beta-renamed', BETA, 'starting', 7, 0, guest_path(BETA))])

    new, gone = [], []
    client.add_signal_receiver(lambda n, p: new.append(n), 'GuestNew', MANAGER)
    client.add_signal_receiver(lambda n, p: gone.append(n), 'GuestRemoved', MANAGER)
    uuid = '11111111-2222-3333-4444-555555555555'
    server.cmd('add gamma %s 9' % uuid)
    spin_until(lambda: new)
    assert ('gamma', uuid, 'pending', 9, 0, guest_path(uuid)) in listed()
    server.cmd('remove %s' % BETA)
    spin_until(lambda: gone)
    assert listed() == sorted([('alpha', ALPHA, 'running', 5, 6, guest_path(ALPHA)),
                               ('gamma', uuid, 'pending', 9, 0, guest_path(uuid))])


def test_get_managed_objects_has_every_property(client):
    objects = obj(client, MANAGER_PATH).GetManagedObjects(dbus_interface=OBJMGR)
    assert set(objects) == {guest_path(ALPHA), guest_path(BETA), HELPER_PATH}
    alpha = objects[guest_path(ALPHA)][GUEST]
    assert dict(alpha) == {
        'Name': 'alpha', 'UUID': ALPHA, 'DomId': 5, 'StubDomId': 6, 'State': 'running',
        'StateReason': '', 'Flavour': 'ioemu', 'DisplayMode': 'vnc-dom0',
        'DisplayAddress': '127.0.0.1', 'DisplayPort': 5900, 'Restarts': 0, 'LastError': '',
        'StubMemoryMiB': 0, 'StubMemoryUsedKiB': 0, 'StubCpuTimeNs': 0,
    }
    assert objects[guest_path(BETA)][GUEST]['StateReason'] == 'stopped by request'
    assert dict(objects[HELPER_PATH][HELPER]) == {
        'Name': 'fs-backend', 'State': 'running', 'MainPID': 4242, 'Restarts': 0,
        'LastExit': ''}


def test_get_guest_by_name_uuid_and_domid(client):
    manager = obj(client, MANAGER_PATH)
    assert manager.GetGuest('alpha', dbus_interface=MANAGER) == guest_path(ALPHA)
    assert manager.GetGuest(BETA, dbus_interface=MANAGER) == guest_path(BETA)
    assert manager.GetGuestByDomid(dbus.UInt32(5), dbus_interface=MANAGER) == guest_path(ALPHA)
    # The stub domain's domid finds its guest too.
    assert manager.GetGuestByDomid(dbus.UInt32(6), dbus_interface=MANAGER) == guest_path(ALPHA)


def test_unknown_guest_is_no_such_guest(client):
    manager = obj(client, MANAGER_PATH)
    name, message = call_error(manager.GetGuest, 'nosuch', dbus_interface=MANAGER)
    assert name == 'org.xen.Stubdom.Error.NoSuchGuest'
    assert "'nosuch'" in message
    name, _ = call_error(manager.GetGuestByDomid, dbus.UInt32(1234), dbus_interface=MANAGER)
    assert name == 'org.xen.Stubdom.Error.NoSuchGuest'


def test_wrong_argument_types_are_invalid_args(client):
    manager = obj(client, MANAGER_PATH)
    name, _ = call_error(manager.GetGuestByDomid, 'five', dbus_interface=MANAGER)
    assert name == 'org.freedesktop.DBus.Error.InvalidArgs'


def test_get_display_reports_the_view(client):
    display = obj(client, guest_path(ALPHA)).GetDisplay(dbus_interface=GUEST)
    assert dict(display) == {'mode': 'vnc-dom0', 'address': '127.0.0.1', 'port': 5900,
                             'password-set': False, 'uri': 'vnc://127.0.0.1:5900'}


# ---- options ----------------------------------------------------------------------------

def test_unknown_option_key_is_invalid_args(client, server):
    beta = obj(client, guest_path(BETA))
    name, message = call_error(beta.Start, sv({'force': True}), dbus_interface=GUEST)
    assert name == 'org.freedesktop.DBus.Error.InvalidArgs'
    assert "'force'" in message
    name, _ = call_error(obj(client, MANAGER_PATH).Attach, dbus.UInt32(7), sv({'x': 1}),
                         dbus_interface=MANAGER)
    assert name == 'org.freedesktop.DBus.Error.InvalidArgs'
    assert server.pending() == 0


def test_mistyped_option_is_invalid_args_naming_the_type(client):
    alpha = obj(client, guest_path(ALPHA))
    name, message = call_error(alpha.SetDisplay, 'vnc-dom0', sv({'port': '5901'}),
                               dbus_interface=GUEST)
    assert name == 'org.freedesktop.DBus.Error.InvalidArgs'
    assert "'port'" in message and "'i'" in message


def test_set_display_checks_its_arguments_then_is_not_supported_yet(client):
    alpha = obj(client, guest_path(ALPHA))
    name, _ = call_error(alpha.SetDisplay, 'teletype', sv(), dbus_interface=GUEST)
    assert name == 'org.xen.Stubdom.Error.InvalidDisplay'
    name, _ = call_error(alpha.SetDisplay, 'vnc-dom0',
                         sv({'port': dbus.Int32(5901), 'address': '0.0.0.0'}), dbus_interface=GUEST)
    assert name == 'org.xen.Stubdom.Error.NotSupported'
    name, _ = call_error(alpha.SetDisplayPassword, 'secret', dbus_interface=GUEST)
    assert name == 'org.xen.Stubdom.Error.NotSupported'


# ---- changes ----------------------------------------------------------------------------

def test_properties_changed_carries_exactly_the_changed_properties(client, server):
    seen = []
    client.add_signal_receiver(lambda iface, changed, invalidated, path=None:
                               seen.append((path, iface, dict(changed), list(invalidated))),
                               signal_name='PropertiesChanged', dbus_interface=PROPS,
                               path_keyword='path')
    server.cmd('state %s starting spawning the stub domain' % BETA)
    spin_until(lambda: len(seen) == 1)
    assert seen[0] == (guest_path(BETA), GUEST,
                       {'State': 'starting', 'StateReason': 'spawning the stub domain'}, [])
    server.cmd('port %s 5901' % ALPHA)
    spin_until(lambda: len(seen) == 2)
    assert seen[1] == (guest_path(ALPHA), GUEST, {'DisplayPort': 5901}, [])
    server.cmd('helper fs-backend restarting 0')
    spin_until(lambda: len(seen) == 3)
    assert seen[2] == (HELPER_PATH, HELPER, {'State': 'restarting', 'MainPID': 0}, [])
    spin_for(0.2)
    assert len(seen) == 3, 'one signal per change'


def test_new_guest_is_announced_and_removed_guest_retracted(client, server):
    added, removed, new, gone = [], [], [], []
    client.add_signal_receiver(lambda p, i: added.append((p, i)), 'InterfacesAdded', OBJMGR)
    client.add_signal_receiver(lambda p, i: removed.append((p, i)), 'InterfacesRemoved', OBJMGR)
    client.add_signal_receiver(lambda n, p: new.append((n, p)), 'GuestNew', MANAGER)
    client.add_signal_receiver(lambda n, p: gone.append((n, p)), 'GuestRemoved', MANAGER)
    uuid = '11111111-2222-3333-4444-555555555555'
    server.cmd('add gamma %s 9' % uuid)
    spin_until(lambda: added and new)
    path, interfaces = added[0]
    assert path == guest_path(uuid)
    assert interfaces[GUEST]['Name'] == 'gamma' and interfaces[GUEST]['DomId'] == 9
    assert interfaces[GUEST]['State'] == 'pending'
    assert new == [('gamma', guest_path(uuid))]
    assert obj(client, MANAGER_PATH).GetGuest('gamma', dbus_interface=MANAGER) == path

    server.cmd('remove %s' % uuid)
    spin_until(lambda: removed and gone)
    assert removed[0][0] == path and GUEST in removed[0][1]
    assert gone == [('gamma', path)]
    name, _ = call_error(obj(client, MANAGER_PATH).GetGuest, 'gamma', dbus_interface=MANAGER)
    assert name == 'org.xen.Stubdom.Error.NoSuchGuest'
    assert path not in obj(client, MANAGER_PATH).GetManagedObjects(dbus_interface=OBJMGR)


# ---- slow commands ----------------------------------------------------------------------

def test_start_replies_only_when_the_core_completes(client, server):
    call = AsyncCall(obj(client, guest_path(BETA)).Start, sv(), dbus_interface=GUEST)
    server.expect('pending start ' + BETA)
    spin_for(0.3)
    assert not call.done
    server.cmd('complete %s ok' % BETA)
    spin_until(lambda: call.done)
    assert call.error is None


def test_start_failure_comes_back_with_its_error_name(client, server):
    call = AsyncCall(obj(client, guest_path(BETA)).Start, sv(), dbus_interface=GUEST)
    server.expect('pending start ' + BETA)
    server.cmd('complete %s TimedOut the stub domain never reached running' % BETA)
    spin_until(lambda: call.done)
    assert call.error.get_dbus_name() == 'org.xen.Stubdom.Error.TimedOut'
    assert call.error.get_dbus_message() == 'the stub domain never reached running'


def test_start_on_a_running_guest_is_invalid_state(client):
    name, message = call_error(obj(client, guest_path(ALPHA)).Start, sv(), dbus_interface=GUEST)
    assert name == 'org.xen.Stubdom.Error.InvalidState'
    assert 'already running' in message


def test_stop_and_restart_reach_the_core(client, server):
    stop = AsyncCall(obj(client, guest_path(ALPHA)).Stop, sv(), dbus_interface=GUEST)
    server.expect('pending stop ' + ALPHA)
    restart = AsyncCall(obj(client, guest_path(ALPHA)).Restart, sv(), dbus_interface=GUEST)
    server.expect('pending restart ' + ALPHA)
    server.cmd('complete %s ok' % ALPHA)
    server.cmd('complete %s ok' % ALPHA)
    spin_until(lambda: stop.done and restart.done)
    assert stop.error is None and restart.error is None


def test_attach_replies_with_the_guest_path(client, server):
    call = AsyncCall(obj(client, MANAGER_PATH).Attach, dbus.UInt32(7), sv(), dbus_interface=MANAGER)
    server.expect('pending attach attach:7')
    assert not call.done
    server.cmd('complete attach:7 ok')
    spin_until(lambda: call.done)
    assert call.error is None and call.result == (guest_path(BETA),)


def test_attach_of_a_non_hvm_domain_is_not_hvm(client):
    name, _ = call_error(obj(client, MANAGER_PATH).Attach, dbus.UInt32(99), sv(),
                         dbus_interface=MANAGER)
    assert name == 'org.xen.Stubdom.Error.NotHvm'


def test_reload_as_root(client, server):
    obj(client, MANAGER_PATH).Reload(dbus_interface=MANAGER)
    server.expect('reloaded')


def test_helper_commands_reach_the_supervisor(client, server):
    call = AsyncCall(obj(client, HELPER_PATH).Restart, dbus_interface=HELPER)
    server.expect('pending helper-restart fs-backend')
    server.cmd('complete-helper fs-backend ok')
    spin_until(lambda: call.done)
    assert call.error is None


def test_a_caller_that_leaves_before_the_reply_does_not_hurt(bus, server):
    leaving = connect(bus)
    AsyncCall(leaving.get_object(BUS_NAME, guest_path(BETA), introspect=False).Start, sv(),
              dbus_interface=GUEST)
    server.expect('pending start ' + BETA)
    leaving.close()
    time.sleep(0.2)
    server.cmd('complete %s ok' % BETA)
    assert server.pending() == 0
    other = connect(bus)
    try:
        other.get_object(BUS_NAME, MANAGER_PATH, introspect=False).Ping(
            dbus_interface='org.freedesktop.DBus.Peer')
    finally:
        other.close()


# ---- authorization ----------------------------------------------------------------------

MUTATING = [
    (MANAGER_PATH, MANAGER + '.Attach', ['7', '@a{sv} {}']),
    (MANAGER_PATH, MANAGER + '.Reload', []),
    (guest_path(BETA), GUEST + '.Start', ['@a{sv} {}']),
    (guest_path(ALPHA), GUEST + '.Stop', ['@a{sv} {}']),
    (guest_path(ALPHA), GUEST + '.Restart', ['@a{sv} {}']),
    (guest_path(ALPHA), GUEST + '.Pause', []),
    (guest_path(ALPHA), GUEST + '.Resume', []),
    (guest_path(ALPHA), GUEST + '.SetDisplay', ['vnc-dom0', '@a{sv} {}']),
    (guest_path(ALPHA), GUEST + '.SetDisplayPassword', ['secret']),
    (HELPER_PATH, HELPER + '.Start', []),
    (HELPER_PATH, HELPER + '.Stop', []),
    (HELPER_PATH, HELPER + '.Restart', []),
]


def test_nobody_can_read(bus, server):
    out = nobody('busctl', '--address=' + bus, 'get-property', BUS_NAME, guest_path(ALPHA),
                 GUEST, 'State')
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == 's "running"'
    out = nobody(*gdbus_call(bus, MANAGER_PATH, MANAGER + '.ListGuests'))
    assert out.returncode == 0, out.stderr
    out = nobody(*gdbus_call(bus, MANAGER_PATH, OBJMGR + '.GetManagedObjects'))
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize('path,method,args', MUTATING, ids=[m for _, m, _ in MUTATING])
def test_nobody_is_denied_every_mutating_call_without_polkit(bus, server, path, method, args):
    out = nobody(*gdbus_call(bus, path, method, *args))
    assert out.returncode != 0
    assert 'org.freedesktop.DBus.Error.AccessDenied' in out.stderr
    assert 'polkit is not available' in out.stderr
    assert server.pending() == 0


@pytest.fixture
def polkit(bus):
    """python3-dbusmock's polkitd on the private bus; yields its Mock interface."""
    env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus)
    mock = subprocess.Popen([sys.executable, '-m', 'dbusmock', '--system', '--template',
                             'polkitd'], env=env, stdout=subprocess.DEVNULL)
    conn = connect(bus)
    try:
        deadline = time.monotonic() + TIMEOUT
        while not conn.name_has_owner('org.freedesktop.PolicyKit1'):
            assert mock.poll() is None, 'dbusmock polkitd exited'
            assert time.monotonic() < deadline, 'dbusmock polkitd did not start'
            time.sleep(0.05)
        yield dbus.Interface(conn.get_object('org.freedesktop.PolicyKit1',
                                             '/org/freedesktop/PolicyKit1/Authority'),
                             'org.freedesktop.DBus.Mock')
    finally:
        conn.close()
        mock.terminate()
        mock.wait(TIMEOUT)


def test_nobody_passes_when_polkit_allows_the_action(bus, server, polkit):
    polkit.SetAllowed(['org.xen.Stubdom.manage'])
    start = subprocess.Popen(NOBODY + gdbus_call(bus, guest_path(BETA), GUEST + '.Start',
                                                 '@a{sv} {}'),
                             env=dict(os.environ, HOME='/tmp'), text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        server.expect('pending start ' + BETA)
        server.cmd('complete %s ok' % BETA)
        out, err = start.communicate(timeout=TIMEOUT)
    finally:
        if start.poll() is None:
            start.kill()
            start.wait()
    assert start.returncode == 0, err
    # The display action is a different one, still refused.
    out = nobody(*gdbus_call(bus, guest_path(ALPHA), GUEST + '.SetDisplayPassword', 'x'))
    assert 'org.freedesktop.DBus.Error.AccessDenied' in out.stderr
    assert 'not authorized for org.xen.Stubdom.display' in out.stderr


def test_nobody_is_denied_when_polkit_says_no(bus, server, polkit):
    out = nobody(*gdbus_call(bus, MANAGER_PATH, MANAGER + '.Reload'))
    assert 'org.freedesktop.DBus.Error.AccessDenied' in out.stderr
    assert 'not authorized for org.xen.Stubdom.manage' in out.stderr
    assert server.pending() == 0


def test_nobody_cannot_own_the_name(bus, server):
    script = ('import dbus, sys\n'
              'try:\n'
              '    dbus.bus.BusConnection(sys.argv[1]).request_name("org.xen.Stubdom")\n'
              'except dbus.exceptions.DBusException as e:\n'
              '    print(e.get_dbus_name())\n')
    out = nobody(sys.executable, '-c', script, bus)
    assert out.stdout.strip() == 'org.freedesktop.DBus.Error.AccessDenied', out.stderr


def test_polkit_may_prompt_only_a_caller_that_allows_it(bus, server, polkit):
    """CheckAuthorization's flags carry AllowUserInteraction (1) exactly when the call had
    ALLOW_INTERACTIVE_AUTHORIZATION (DESIGN.md section 5), so a VM manager's user can be
    asked through their polkit agent, and a script is never held up by a prompt."""
    for allow, flags in (('yes', 1), ('no', 0)):
        polkit.ClearCalls()
        out = nobody('busctl', '--address=' + bus, '--allow-interactive-authorization=' + allow,
                     'call', BUS_NAME, MANAGER_PATH, MANAGER, 'Reload')
        assert out.returncode != 0  # busctl says only "Access denied"
        calls = polkit.GetMethodCalls('CheckAuthorization')
        assert [int(args[3]) for _, args in calls] == [flags], allow
