// OpenDisplay (GuestService::openDisplay): where a guest's display is served comes from its
// view, as GetDisplay says it (the vfb backend's port for vnc-dom0, the stub's own address
// and port for vnc-stubdom, what qemu reported over QMP for a Linux stub); the connection
// and the relay are DisplayLinks'.
#include "GuestManager.hpp"

namespace stubdomd {

void GuestManager::openDisplay(const std::string& uuid, DisplayOpened done) {
    Guest& guest = registry_.announced(uuid);
    const GuestView& view = guest.view;
    if (!displayLinks_)
        throw Error(ErrorCode::NotSupported, "opening displays is not supported");
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
    const DomId domid = view.domid;
    displayLinks_->open(uuid, view.displayAddress, view.displayPort, std::move(done),
                        [this, uuid, domid](bool connected, unsigned clients) {
                            // The guest may be gone, or be another one by now.
                            Guest* still = registry_.byUuid(uuid);
                            if (still && still->view.domid == domid)
                                registry_.displayClientChanged(*still, connected, clients);
                        });
}

} // namespace stubdomd
