// The Client's bus connection as a GLib event source, so its signals (guests added,
// removed, changed) arrive from the same main loop as GTK's own events. libstubdom-client
// never starts a thread: it says what to poll (Client::pollInfo) and processEvents() runs
// the callbacks. This is the piece to copy into any GLib or GTK program.
#pragma once

#include <stubdom-client/Client.hpp>

#include <glib.h>

namespace vmmanager {

class BusSource {
public:
    // Attaches to the default main context; `client` must outlive this.
    explicit BusSource(stubdom::Client& client);
    ~BusSource();
    BusSource(const BusSource&) = delete;
    BusSource& operator=(const BusSource&) = delete;

private:
    GSource* source_;
};

} // namespace vmmanager
