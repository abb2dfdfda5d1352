// vm-manager: the smallest VM manager on libstubdom-client, for VM-manager developers to
// copy from. It lists stubdomd's guests live (from the daemon's signals), starts, stops and
// restarts them, and shows a guest's screen through the socket stubdomd hands over.
//
//   vm-manager               the window (GTK 3)
//   vm-manager --list-once   print the guests and exit (no display server needed)
//   vm-manager --headless    print the guests as they change, commands from stdin
//
// Files, one job each: BusSource (the Client in GLib's main loop), GuestModel (the list
// fed by signals), Actions (calls that wait, off the main thread), ManagerWindow (the
// list and buttons), DisplayWindow (gtk-vnc's widget on OpenDisplay's socket), Headless.
#include "BusSource.hpp"
#include "GuestModel.hpp"
#include "Headless.hpp"
#include "ManagerWindow.hpp"

#include <stubdom-client/Client.hpp>

#include <gtk/gtk.h>

#include <cstring>
#include <iostream>
#include <memory>

namespace {

const char* kUsage = "usage: vm-manager [--list-once | --headless]\n"
                     "  (no option)   a window listing stubdomd's guests\n"
                     "  --list-once   print the guests, one a line, and exit\n"
                     "  --headless    print the guests as they change; commands on stdin:\n"
                     "                start|stop|restart|display NAME, screenshot NAME FILE.png,\n"
                     "                list, quit\n";

struct LoopUnref {
    void operator()(GMainLoop* loop) const { g_main_loop_unref(loop); }
};

int run(const std::string& mode, int argc, char** argv) {
    // GTK only where a window may be shown; --list-once runs anywhere. Initialised before
    // the Client so that a missing display is reported before anything is asked of stubdomd.
    const bool haveDisplay = mode != "--list-once" && gtk_init_check(&argc, &argv);
    if (mode.empty() && !haveDisplay) {
        std::cerr << "vm-manager: cannot open a display (is DISPLAY or WAYLAND_DISPLAY set?); "
                     "--list-once and --headless need none\n";
        return 1;
    }

    stubdom::Client client; // the system bus (DBUS_SYSTEM_BUS_ADDRESS if set)
    vmmanager::GuestModel model(client);
    if (mode == "--list-once") {
        model.load();
        // watch() answers an empty list when the daemon is away: say so, not "no guests".
        if (!client.serviceRunning()) {
            std::cerr << "vm-manager: stubdomd is not running\n";
            return 1;
        }
        vmmanager::listOnce(model);
        return 0;
    }

    std::unique_ptr<GMainLoop, LoopUnref> loop(g_main_loop_new(nullptr, FALSE));
    vmmanager::BusSource bus(client);
    std::unique_ptr<vmmanager::Headless> headless;
    std::unique_ptr<vmmanager::ManagerWindow> window;
    if (mode == "--headless") {
        headless = std::make_unique<vmmanager::Headless>(client, model, loop.get(), haveDisplay);
    } else {
        window = std::make_unique<vmmanager::ManagerWindow>(client, model);
        // Closing the list ends the program; the window itself goes with ManagerWindow.
        g_signal_connect_swapped(window->widget(), "delete-event",
                                 G_CALLBACK(+[](GMainLoop* running) -> gboolean {
                                     g_main_loop_quit(running);
                                     return TRUE;
                                 }),
                                 loop.get());
        gtk_widget_show_all(window->widget());
    }
    // Listeners first, then load: every guest is reported through them, the first ones too.
    model.load();
    if (!client.serviceRunning()) {
        if (window)
            window->status("stubdomd is not running; waiting for it");
        else
            std::cout << "stubdomd is not running; waiting for it" << std::endl;
    }
    if (headless)
        std::cout << "watching " << model.rows().size() << " guest(s)" << std::endl;
    g_main_loop_run(loop.get());
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    std::string mode;
    if (argc > 2 || (argc == 2 && std::strcmp(argv[1], "--list-once") != 0 &&
                     std::strcmp(argv[1], "--headless") != 0)) {
        std::cerr << kUsage;
        return argc == 2 && std::strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    if (argc == 2)
        mode = argv[1];
    try {
        return run(mode, argc, argv);
    } catch (const std::exception& e) {
        // libstubdom-client's typed errors say what and which D-Bus error name.
        std::cerr << "vm-manager: " << e.what() << "\n";
        return 1;
    }
}
