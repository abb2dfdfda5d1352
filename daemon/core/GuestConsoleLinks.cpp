// OpenConsole (GuestService::openConsole): which console a name means, and whether the guest
// has one now; the PTY and its bridge are ConsoleLinks'.
//
// Both names reach the stub domain's console 0, the one console xenconsoled serves per
// domain (libxl's STUBDOM_CONSOLE_LOGGING): the Linux stub's QEMU has the guest's first
// serial port on it (`-serial /dev/hvc0`, stubimage/init, when the guest's arguments name
// no serial port), so the guest's COM1 and the stub's own messages share it. libxl instead
// gives the guest's serial its own console (STUBDOM_CONSOLE_SERIAL, device/console/3) and
// starts a dom0 QEMU to serve it, which stubdomd avoids. "stub" is read-only: a client
// watching the stub must not type into the guest's serial port.
#include "GuestManager.hpp"

namespace stubdomd {

bool consoleWritable(const std::string& name) {
    if (name == kConsoleSerial0)
        return true;
    if (name == kConsoleStub)
        return false;
    throw Error(ErrorCode::InvalidArgs, "OpenConsole: unknown console name '" + name +
                                            "' (known: " + kConsoleSerial0 + ", " + kConsoleStub +
                                            ")");
}

GuestService::ConsoleOpened GuestManager::openConsole(const std::string& uuid,
                                                      const std::string& name) {
    const bool writable = consoleWritable(name);
    Guest& guest = registry_.announced(uuid);
    const GuestView& view = guest.view;
    if (!consoleLinks_ || !consoles_.logging())
        throw Error(ErrorCode::NotSupported, "opening consoles is not supported");
    if (view.stubDomid == 0)
        throw Error(ErrorCode::InvalidState, "guest " + view.name + " has no stub domain (it is " +
                                                 std::string(toString(view.state)) + "): console " +
                                                 name + " is not there");
    const auto tty = consoles_.ttyOf(view.stubDomid);
    if (!tty)
        throw Error(ErrorCode::InvalidState, "the console of guest " + view.name +
                                                 "'s stub domain " +
                                                 std::to_string(view.stubDomid) +
                                                 " has no pty yet (xenconsoled publishes it)");
    const int output = consoles_.openFollower(view.name);
    if (output < 0)
        throw Error(ErrorCode::Busy, "cannot follow guest " + view.name +
                                         "'s console now (too many followers, or out of "
                                         "descriptors)");
    const auto opened = consoleLinks_->open(uuid, output, *tty, writable);
    return {opened.fd, opened.path};
}

} // namespace stubdomd
