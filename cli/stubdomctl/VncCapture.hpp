// One picture of a VNC display through a connected socket (what OpenDisplay hands over),
// taken by gtk-vnc's RFB client (gvnc-1.0: no GTK, no window) and saved as a PNG by
// gdk-pixbuf. No RFB of our own: the protocol, its security handshake and the pixel
// formats are the library's.
#pragma once

#include <chrono>
#include <string>

namespace stubdomctl {

struct Capture {
    int width = 0;
    int height = 0;
    std::string desktopName;
};

// Takes `fd` (gvnc owns and closes it), asks for the whole screen once, waits until every
// pixel has arrived and writes it to `pngPath`. Throws std::runtime_error saying what went
// wrong (the connection closed, the server asked for a password, the timeout passed, the
// file could not be written).
Capture captureScreen(int fd, const std::string& pngPath, std::chrono::milliseconds timeout);

} // namespace stubdomctl
