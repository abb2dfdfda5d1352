// A guest's screen in a window: gtk-vnc's VncDisplay widget fed by the socket
// Client::openDisplay hands over. The manager never connects to a VNC address or port
// itself (which a non-root user often cannot reach, the stub's network being private):
// stubdomd connects and relays, and polkit's org.xen.Stubdom.display decides who may.
#pragma once

#include <stubdom-client/Client.hpp>

#include <gtk/gtk.h>

#include <functional>
#include <string>

namespace vmmanager {

// What the window reports, one line each: "connected 640x480 \"QEMU (…)\"" once the VNC
// handshake is done, "closed" when the connection ends, "error: …".
using DisplayReport = std::function<void(const std::string& guest, const std::string& line)>;

// Opens the guest's display and shows it in a new window, which lives until the user
// closes it or the connection ends (GTK owns it; hold it with g_object_add_weak_pointer).
// Throws stubdom::Error when the daemon refuses (AccessDenied, InvalidDisplay for a guest
// without VNC, InvalidState when stopped).
GtkWidget* openDisplayWindow(stubdom::Client& client, const std::string& guest,
                             DisplayReport report);

// Saves what the window shows now, at the guest's own size, as a PNG (the widget's copy of
// the guest's screen, as the last updates left it). Throws std::runtime_error.
void saveDisplayScreen(GtkWidget* window, const std::string& pngPath);

} // namespace vmmanager
