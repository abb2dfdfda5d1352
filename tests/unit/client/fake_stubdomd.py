#!/usr/bin/python3
"""A stand-in for stubdomd on a private bus, for the client library's and the CLIs' tests
until the real daemon runs on the simulated host (tests/integration has those tests).

It speaks the contract of dbus/org.xen.Stubdom.*.xml from the outside: the Manager with
an ObjectManager, one object per guest and helper, PropertiesChanged, async replies,
the error names, and uid 0 only for mutating calls (there is no polkit here). A test
drives it through org.xen.StubdomTest at /org/xen/StubdomTest.

Usage: fake_stubdomd.py ADDRESS [NAME:DOMID…]   (guests running from the start; prints
"ready" on stdout once it owns the name)
"""
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

BUS_NAME = "org.xen.Stubdom"
ROOT = "/org/xen/Stubdom"
MANAGER = "org.xen.Stubdom.Manager"
GUEST = "org.xen.Stubdom.Guest"
HELPER = "org.xen.Stubdom.Helper"
PROPS = "org.freedesktop.DBus.Properties"
OM = "org.freedesktop.DBus.ObjectManager"
TEST = "org.xen.StubdomTest"
ERR = "org.xen.Stubdom.Error."


class Failure(dbus.DBusException):
    def __init__(self, name, message):
        super().__init__(message, name=name)


def path_encode(text):
    # sd_bus_path_encode: every byte but [A-Za-z0-9] (and a leading digit) as _XX.
    out = []
    for i, ch in enumerate(text):
        if ch.isascii() and (ch.isalpha() or (ch.isdigit() and i > 0)):
            out.append(ch)
        else:
            out.append("_%02x" % ord(ch))
    return "".join(out)


class Exported(dbus.service.Object):
    interface = None

    def __init__(self, daemon, path, props):
        self.daemon = daemon
        self.path = path
        self.props = props
        super().__init__(daemon.bus, path)

    def typed(self):
        return dbus.Dictionary(self.props, signature="sv")

    def update(self, **changes):
        changed = {k: v for k, v in changes.items() if self.props.get(k) != v}
        if not changed:
            return
        self.props.update(changed)
        self.PropertiesChanged(self.interface, dbus.Dictionary(changed, signature="sv"), [])

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, interface, name):
        if interface != self.interface or name not in self.props:
            raise Failure("org.freedesktop.DBus.Error.UnknownProperty", name)
        return self.props[name]

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        if interface != self.interface:
            raise Failure("org.freedesktop.DBus.Error.UnknownInterface", interface)
        return self.typed()

    @dbus.service.signal(PROPS, signature="sa{sv}as")
    def PropertiesChanged(self, interface, changed, invalidated):
        pass


class Guest(Exported):
    interface = GUEST

    def __init__(self, daemon, name, uuid, domid, state):
        props = {
            "Name": dbus.String(name), "UUID": dbus.String(uuid), "DomId": dbus.UInt32(domid),
            "StubDomId": dbus.UInt32(domid + 1 if state == "running" else 0),
            "State": dbus.String(state), "StateReason": dbus.String(""),
            "Flavour": dbus.String("ioemu"), "DisplayMode": dbus.String("vnc-stubdom"),
            "DisplayAddress": dbus.String("127.0.0.1"), "DisplayPort": dbus.Int32(-1),
            "Restarts": dbus.UInt32(0), "LastError": dbus.String(""),
            "StubMemoryMiB": dbus.UInt64(0), "StubMemoryUsedKiB": dbus.UInt64(0),
            "StubCpuTimeNs": dbus.UInt64(0),
        }
        super().__init__(daemon, ROOT + "/guest/" + path_encode(uuid), props)

    def run(self):
        self.update(State=dbus.String("running"), StateReason=dbus.String(""),
                    StubDomId=dbus.UInt32(int(self.props["DomId"]) + 1))

    @dbus.service.method(GUEST, in_signature="a{sv}", sender_keyword="sender",
                         async_callbacks=("ok", "fail"))
    def Start(self, options, sender, ok, fail):
        self.daemon.mutating("Start", sender, options, known=("stub-memory",))
        if self.props["State"] in ("running", "starting", "unmanaged"):
            raise Failure(ERR + "InvalidState", "guest '%s' is %s" % (self.props["Name"],
                                                                   self.props["State"]))
        failure = self.daemon.failures.get(int(self.props["DomId"]))
        self.update(State=dbus.String("starting"))
        if failure:
            self.update(State=dbus.String("failed"), StateReason=dbus.String(failure[1]))
            return fail(Failure(*failure))
        GLib.timeout_add(100, lambda: (self.run(), ok(), False)[-1])

    @dbus.service.method(GUEST, in_signature="a{sv}", sender_keyword="sender")
    def Stop(self, options, sender):
        self.daemon.mutating("Stop", sender, options)
        if int(self.props["StubDomId"]) == 0:
            raise Failure(ERR + "InvalidState", "guest '%s' has no stub domain"
                          % self.props["Name"])
        self.update(State=dbus.String("stopped"), StubDomId=dbus.UInt32(0))

    @dbus.service.method(GUEST, in_signature="a{sv}", sender_keyword="sender")
    def Restart(self, options, sender):
        self.daemon.mutating("Restart", sender, options, known=("stub-memory",))
        self.update(State=dbus.String("stopped"), StubDomId=dbus.UInt32(0))
        self.run()
        self.update(Restarts=dbus.UInt32(int(self.props["Restarts"]) + 1))


class Helper(Exported):
    interface = HELPER

    def __init__(self, daemon, name):
        props = {"Name": dbus.String(name), "State": dbus.String("running"),
                 "MainPID": dbus.UInt32(4242), "Restarts": dbus.UInt32(0),
                 "LastExit": dbus.String("")}
        super().__init__(daemon, ROOT + "/helper/" + name.replace("-", "_"), props)

    @dbus.service.method(HELPER, in_signature="", sender_keyword="sender")
    def Start(self, sender):
        self.daemon.mutating("HelperStart", sender)
        self.update(State=dbus.String("running"), MainPID=dbus.UInt32(4243))

    @dbus.service.method(HELPER, in_signature="", sender_keyword="sender")
    def Stop(self, sender):
        self.daemon.mutating("HelperStop", sender)
        self.update(State=dbus.String("stopped"), MainPID=dbus.UInt32(0),
                    LastExit=dbus.String("killed by signal 15"))

    @dbus.service.method(HELPER, in_signature="", sender_keyword="sender")
    def Restart(self, sender):
        self.daemon.mutating("HelperRestart", sender)
        self.update(State=dbus.String("running"), MainPID=dbus.UInt32(4244),
                    Restarts=dbus.UInt32(int(self.props["Restarts"]) + 1))


class Manager(Exported):
    interface = MANAGER

    def __init__(self, daemon):
        props = {"Version": dbus.String("0.1.0-fake"), "XenVersion": dbus.String("4.17.0"),
                 "Features": dbus.Array(["ioemu", "attach", "helpers"], signature="s"),
                 "Toolstack": dbus.String("/usr/sbin/xl")}
        super().__init__(daemon, ROOT, props)

    @dbus.service.method(MANAGER, in_signature="", out_signature="a(sssuuo)")
    def ListGuests(self):
        return [(g.props["Name"], g.props["UUID"], g.props["State"], g.props["DomId"],
                 g.props["StubDomId"], dbus.ObjectPath(g.path))
                for g in self.daemon.guests.values()]

    @dbus.service.method(MANAGER, in_signature="s", out_signature="o")
    def GetGuest(self, key):
        for g in self.daemon.guests.values():
            if key in (g.props["Name"], g.props["UUID"]):
                return dbus.ObjectPath(g.path)
        raise Failure(ERR + "NoSuchGuest", "no guest is named or has the uuid '%s'" % key)

    @dbus.service.method(MANAGER, in_signature="u", out_signature="o")
    def GetGuestByDomid(self, domid):
        for g in self.daemon.guests.values():
            if domid in (g.props["DomId"], g.props["StubDomId"]) and domid != 0:
                return dbus.ObjectPath(g.path)
        raise Failure(ERR + "NoSuchGuest", "no guest has domid %d" % domid)

    @dbus.service.method(MANAGER, in_signature="ua{sv}", out_signature="o",
                         sender_keyword="sender", async_callbacks=("ok", "fail"))
    def Attach(self, domid, options, sender, ok, fail):
        # Attach's documented keys, each with its D-Bus type, as stubdomd checks them.
        for key, value in options.items():
            if ATTACH_OPTIONS.get(key) is not type(value):
                raise Failure("org.freedesktop.DBus.Error.InvalidArgs",
                              "unknown option or wrong type '%s'" % key)
        self.daemon.attach_options = {str(k): v for k, v in options.items()}
        self.daemon.mutating("Attach", sender)
        failure = self.daemon.failures.get(int(domid))
        guest = next((g for g in self.daemon.guests.values()
                      if int(g.props["DomId"]) == domid), None)
        if guest is None:
            raise Failure(ERR + "NoSuchGuest", "there is no domain %d" % domid)
        if failure:
            guest.update(State=dbus.String("failed"), StateReason=dbus.String(failure[1]))
            return fail(Failure(*failure))
        if guest.props["State"] == "running":
            return ok(dbus.ObjectPath(guest.path))
        guest.update(State=dbus.String("starting"))
        GLib.timeout_add(150, lambda: (guest.run(), ok(dbus.ObjectPath(guest.path)),
                                       False)[-1])

    @dbus.service.method(MANAGER, in_signature="", sender_keyword="sender")
    def Reload(self, sender):
        self.daemon.mutating("Reload", sender)

    @dbus.service.signal(MANAGER, signature="so")
    def GuestNew(self, name, path):
        pass

    @dbus.service.signal(MANAGER, signature="so")
    def GuestRemoved(self, name, path):
        pass

    @dbus.service.method(OM, in_signature="", out_signature="a{oa{sa{sv}}}")
    def GetManagedObjects(self):
        objects = list(self.daemon.guests.values()) + list(self.daemon.helpers.values())
        return {dbus.ObjectPath(o.path): {o.interface: o.typed()} for o in objects}

    @dbus.service.signal(OM, signature="oa{sa{sv}}")
    def InterfacesAdded(self, path, interfaces):
        pass

    @dbus.service.signal(OM, signature="oas")
    def InterfacesRemoved(self, path, interfaces):
        pass


ATTACH_OPTIONS = {"vnc": dbus.Boolean, "vnclisten": dbus.String, "vncdisplay": dbus.UInt32,
                  "vncunused": dbus.Boolean, "sdl": dbus.Boolean, "keymap": dbus.String,
                  "videoram": dbus.UInt32}


class Control(dbus.service.Object):
    """What a test uses to play the host: guests appear, change and go."""

    def __init__(self, daemon):
        self.daemon = daemon
        super().__init__(daemon.bus, "/org/xen/StubdomTest")

    @dbus.service.method(TEST, in_signature="ssus", out_signature="o")
    def AddGuest(self, name, uuid, domid, state):
        guest = Guest(self.daemon, name, uuid, int(domid), state)
        self.daemon.guests[name] = guest
        self.daemon.manager.InterfacesAdded(guest.path, {GUEST: guest.typed()})
        self.daemon.manager.GuestNew(name, guest.path)
        return guest.path

    @dbus.service.method(TEST, in_signature="s")
    def RemoveGuest(self, name):
        guest = self.daemon.guests.pop(name)
        guest.remove_from_connection()
        self.daemon.manager.InterfacesRemoved(guest.path, [GUEST])
        self.daemon.manager.GuestRemoved(name, guest.path)

    @dbus.service.method(TEST, in_signature="sss")
    def SetState(self, name, state, reason):
        self.daemon.guests[name].update(State=dbus.String(state),
                                        StateReason=dbus.String(reason))

    @dbus.service.method(TEST, in_signature="uss")
    def FailNext(self, domid, error, message):
        self.daemon.failures[int(domid)] = (error, message)

    @dbus.service.method(TEST, in_signature="", out_signature="as")
    def Calls(self):
        return self.daemon.calls

    @dbus.service.method(TEST, in_signature="", out_signature="a{sv}")
    def LastAttachOptions(self):
        return self.daemon.attach_options

    @dbus.service.method(TEST, in_signature="")
    def Quit(self):
        GLib.idle_add(self.daemon.loop.quit)


class Daemon:
    def __init__(self, address, seed):
        self.bus = dbus.bus.BusConnection(address)
        self.loop = GLib.MainLoop()
        self.guests, self.helpers, self.failures, self.calls = {}, {}, {}, []
        self.attach_options = {}
        # Export everything, then take the name (what stubdomd does too).
        self.manager = Manager(self)
        self.helpers["fs-backend"] = Helper(self, "fs-backend")
        self.control = Control(self)
        for entry in seed:
            name, domid = entry.rsplit(":", 1)
            uuid = "%08d-0000-4000-8000-000000000000" % int(domid)
            self.guests[name] = Guest(self, name, uuid, int(domid), "running")
        self.name = dbus.service.BusName(BUS_NAME, self.bus, do_not_queue=True)

    def mutating(self, what, sender, options=None, known=()):
        uid = self.bus.get_unix_user(sender)
        if uid != 0:
            raise Failure("org.freedesktop.DBus.Error.AccessDenied",
                          "%s needs uid 0 or the polkit action org.xen.Stubdom.manage" % what)
        for key in options or {}:
            if key not in known:
                raise Failure("org.freedesktop.DBus.Error.InvalidArgs",
                              "unknown option '%s'" % key)
        self.calls.append(" ".join([what] + ["%s=%s" % (k, v)
                                             for k, v in sorted((options or {}).items())]))


def main():
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    daemon = Daemon(sys.argv[1], sys.argv[2:])
    print("ready", flush=True)
    daemon.loop.run()


if __name__ == "__main__":
    main()
