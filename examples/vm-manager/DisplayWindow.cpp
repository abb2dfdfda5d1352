#include "DisplayWindow.hpp"

#include <gtk-vnc.h>
#include <gtk/gtk.h>

#include <unistd.h>

#include <memory>
#include <stdexcept>

namespace vmmanager {

namespace {

// What the widget's signal handlers need; owned by the window (freed with it).
struct Session {
    std::string guest;
    DisplayReport report;
    GtkWidget* window;
    GtkWidget* display;
};

void onInitialized(VncDisplay* display, gpointer data) {
    auto* s = static_cast<Session*>(data);
    const int width = vnc_display_get_width(display);
    const int height = vnc_display_get_height(display);
    const std::string name = vnc_display_get_name(display);
    gtk_window_set_title(GTK_WINDOW(s->window), (s->guest + " — " + name).c_str());
    // With scaling on, the widget asks for little room; open at the guest's own size.
    gtk_window_resize(GTK_WINDOW(s->window), width, height);
    s->report(s->guest, "connected " + std::to_string(width) + "x" + std::to_string(height) +
                            " \"" + name + "\"");
}

void onAuthCredential(VncDisplay* display, GValueArray*, gpointer data) {
    // A display with a VNC password (Guest.SetDisplayPassword): a real manager asks the
    // user here and answers with vnc_display_set_credential(); this example does not.
    auto* s = static_cast<Session*>(data);
    s->report(s->guest, "error: the display asks for a password; this example has none to give");
    vnc_display_close(display);
}

void onError(VncDisplay*, const char* message, gpointer data) {
    auto* s = static_cast<Session*>(data);
    s->report(s->guest, std::string("error: ") + message);
}

void onDisconnected(VncDisplay*, gpointer data) {
    // The guest's stub stopped, the daemon cut the relay, or the window is closing: in
    // every case the window has nothing left to show.
    auto* s = static_cast<Session*>(data);
    s->report(s->guest, "closed");
    gtk_widget_destroy(s->window);
}

void onWindowDestroyed(GtkWidget*, gpointer data) {
    // From here the widget may still signal while it closes its connection, after the
    // session is gone: no handler of ours may run then.
    auto* s = static_cast<Session*>(data);
    g_signal_handlers_disconnect_by_data(s->display, s);
}

} // namespace

GtkWidget* openDisplayWindow(stubdom::Client& client, const std::string& guest,
                             DisplayReport report) {
    // First the descriptor (this may throw: no window for a display that cannot be had).
    const int fd = client.openDisplay(guest);

    GtkWidget* window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
    gtk_window_set_title(GTK_WINDOW(window), (guest + " — connecting").c_str());
    GtkWidget* display = vnc_display_new();
    auto* vnc = VNC_DISPLAY(display);
    // Shared: other viewers of the same guest stay connected (QEMU takes several).
    vnc_display_set_shared_flag(vnc, TRUE);
    // The window may be resized; the screen scales into it, keeping its proportions.
    vnc_display_set_scaling(vnc, TRUE);
    vnc_display_set_keep_aspect_ratio(vnc, TRUE);
    gtk_container_add(GTK_CONTAINER(window), display);

    auto session = std::make_unique<Session>(Session{guest, std::move(report), window, display});
    g_signal_connect(display, "vnc-initialized", G_CALLBACK(onInitialized), session.get());
    g_signal_connect(display, "vnc-auth-credential", G_CALLBACK(onAuthCredential), session.get());
    g_signal_connect(display, "vnc-error", G_CALLBACK(onError), session.get());
    g_signal_connect(display, "vnc-disconnected", G_CALLBACK(onDisconnected), session.get());
    // Closing the window closes the connection (the widget's own dispose does), which is
    // what tells stubdomd the client left. The session goes with the window.
    g_signal_connect(window, "destroy", G_CALLBACK(onWindowDestroyed), session.get());
    g_object_set_data_full(
        G_OBJECT(window), "vm-manager-session", session.release(),
        [](gpointer data) { std::unique_ptr<Session>(static_cast<Session*>(data)); });

    // gtk-vnc takes the descriptor over and closes it with the connection.
    if (!vnc_display_open_fd(vnc, fd)) {
        close(fd);
        gtk_widget_destroy(window);
        throw std::runtime_error("gtk-vnc could not use the display's socket");
    }
    gtk_widget_show_all(window);
    return window;
}

void saveDisplayScreen(GtkWidget* window, const std::string& pngPath) {
    auto* vnc = VNC_DISPLAY(gtk_bin_get_child(GTK_BIN(window)));
    if (!vnc_display_is_open(vnc) || vnc_display_get_width(vnc) <= 0)
        throw std::runtime_error("the display is not connected yet");
    GdkPixbuf* pixbuf = vnc_display_get_pixbuf(vnc);
    if (!pixbuf)
        throw std::runtime_error("the display has no picture yet");
    GError* error = nullptr;
    const bool saved = gdk_pixbuf_save(pixbuf, pngPath.c_str(), "png", &error, nullptr);
    g_object_unref(pixbuf);
    if (!saved) {
        const std::string why = error->message;
        g_error_free(error);
        throw std::runtime_error("cannot save " + pngPath + ": " + why);
    }
}

} // namespace vmmanager
