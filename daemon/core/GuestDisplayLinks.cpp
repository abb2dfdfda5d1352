// OpenDisplay (GuestService::openDisplay): where a guest's display is served comes from its
// view, as GetDisplay says it (the vfb backend's port for vnc-dom0, the stub's own address
// and port for vnc-stubdom); the connection and the relay are DisplayLinks'.
//
// A Linux stub domain's display is carried like its QMP: its qemu serves VNC on a unix
// socket inside the stub, the stub's init offers it at device-model/<guest>/vnc-vchan, and
// the display proxy of its channel (DeviceModelMonitor::displaySocket) is the dom0 end. So
// for a Linux stub OpenDisplay goes there whatever the display mode, which says only what
// is served on a network: that path needs no network, no TCP port, no vfb, and is open
// only to callers with the display action (its VNC has no password of its own). The proxy
// serves one connection at a time, so such a display takes one client (then Busy).
#include "GuestManager.hpp"

namespace stubdomd {

void GuestManager::openDisplay(const std::string& uuid, DisplayOpened done) {
    Guest& guest = registry_.announced(uuid);
    const GuestView& view = guest.view;
    if (!displayLinks_)
        throw Error(ErrorCode::NotSupported, "opening displays is not supported");
    DisplayEndpoint where;
    if (view.flavour == Flavour::Linux && channel_.available()) {
        if (!channel_.stubOf(view.domid))
            throw Error(ErrorCode::InvalidState,
                        "guest " + view.name +
                            "'s display (its Linux stub domain's, over a vchan) is not served "
                            "now: its stub domain is " +
                            std::string(toString(view.state)));
        where.socketPath = channel_.monitor().displaySocket(view.domid);
        where.maxClients = 1;
    } else {
        where = networkDisplay(view);
    }
    const DomId domid = view.domid;
    displayLinks_->open(uuid, where, std::move(done),
                        [this, uuid, domid](bool connected, unsigned clients) {
                            // The guest may be gone, or be another one by now.
                            Guest* still = registry_.byUuid(uuid);
                            if (still && still->view.domid == domid)
                                registry_.displayClientChanged(*still, connected, clients);
                        });
}

// vnc-dom0 and vnc-stubdom: the address and port the view has.
DisplayEndpoint GuestManager::networkDisplay(const GuestView& view) {
    if (view.displayMode != DisplayMode::VncStubdom && view.displayMode != DisplayMode::VncDom0)
        throw Error(ErrorCode::InvalidDisplay,
                    "guest " + view.name + " has display mode " +
                        std::string(toString(view.displayMode)) +
                        ": there is no VNC display to open (SetDisplay chooses "
                        "vnc-dom0 or vnc-stubdom)");
    if (view.displayAddress.empty() || view.displayPort < 0)
        throw Error(ErrorCode::InvalidState, "guest " + view.name + "'s display (mode " +
                                                 std::string(toString(view.displayMode)) +
                                                 ") is not served now: its stub domain is " +
                                                 std::string(toString(view.state)));
    DisplayEndpoint where;
    where.address = view.displayAddress;
    where.port = view.displayPort;
    return where;
}

} // namespace stubdomd
