#include "VncCapture.hpp"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gvnc.h>

#include <memory>
#include <stdexcept>
#include <vector>

namespace stubdomctl {

namespace {

struct Unref {
    void operator()(gpointer object) const { g_object_unref(object); }
};
struct LoopUnref {
    void operator()(GMainLoop* loop) const { g_main_loop_unref(loop); }
};

// The picture as it arrives: 32 bits a pixel, R, G, B, unused in memory order, and which
// pixels a FramebufferUpdate has filled so far (the server may send them in any number of
// rectangles; done once each has come).
struct Session {
    GMainLoop* loop = nullptr;
    VncConnection* connection = nullptr;
    std::vector<guint8> pixels;
    std::vector<bool> filled;
    long missing = 0;
    int width = 0;
    int height = 0;
    std::string error;
    bool done = false;
    bool timedOut = false;

    void fail(const std::string& why) {
        if (error.empty() && !done)
            error = why;
        g_main_loop_quit(loop);
    }
};

const VncPixelFormat kLocalFormat = [] {
    VncPixelFormat f{};
    f.bits_per_pixel = 32;
    f.depth = 24;
    f.byte_order = G_LITTLE_ENDIAN;
    f.true_color_flag = TRUE;
    f.red_max = 255;
    f.green_max = 255;
    f.blue_max = 255;
    f.red_shift = 0; // little-endian: R is the first byte in memory
    f.green_shift = 8;
    f.blue_shift = 16;
    return f;
}();

void onInitialized(VncConnection* connection, gpointer data) {
    auto* s = static_cast<Session*>(data);
    s->width = vnc_connection_get_width(connection);
    s->height = vnc_connection_get_height(connection);
    const auto count = static_cast<std::size_t>(s->width) * static_cast<std::size_t>(s->height);
    s->pixels.assign(count * 4, 0);
    s->filled.assign(count, false);
    s->missing = static_cast<long>(count);
    std::unique_ptr<VncBaseFramebuffer, Unref> framebuffer(vnc_base_framebuffer_new(
        s->pixels.data(), static_cast<guint16>(s->width), static_cast<guint16>(s->height),
        s->width * 4, &kLocalFormat, vnc_connection_get_pixel_format(connection)));
    gint32 raw[] = {VNC_CONNECTION_ENCODING_RAW};
    if (!vnc_connection_set_framebuffer(connection, VNC_FRAMEBUFFER(framebuffer.get())) ||
        !vnc_connection_set_encodings(connection, 1, raw) ||
        !vnc_connection_framebuffer_update_request(connection, FALSE, 0, 0,
                                                   static_cast<guint16>(s->width),
                                                   static_cast<guint16>(s->height)))
        s->fail("cannot ask the display for its screen");
}

void onUpdate(VncConnection*, guint16 x, guint16 y, guint16 w, guint16 h, gpointer data) {
    auto* s = static_cast<Session*>(data);
    for (int row = y; row < y + h && row < s->height; row++)
        for (int col = x; col < x + w && col < s->width; col++) {
            auto at = static_cast<std::size_t>(row) * static_cast<std::size_t>(s->width) +
                      static_cast<std::size_t>(col);
            if (!s->filled[at]) {
                s->filled[at] = true;
                s->missing--;
            }
        }
    if (s->missing == 0 && !s->done) {
        s->done = true;
        g_main_loop_quit(s->loop);
    }
}

// gvnc's signal hands a GValueArray, which GLib deprecates; there is no other way to read it.
G_GNUC_BEGIN_IGNORE_DEPRECATIONS
bool offersNone(GValueArray* types) {
    for (guint i = 0; i < types->n_values; i++)
        if (g_value_get_enum(g_value_array_get_nth(types, i)) == VNC_CONNECTION_AUTH_NONE)
            return true;
    return false;
}
G_GNUC_END_IGNORE_DEPRECATIONS

void onChooseType(VncConnection* connection, GValueArray* types, gpointer data) {
    if (offersNone(types)) {
        vnc_connection_set_auth_type(connection, VNC_CONNECTION_AUTH_NONE);
        return;
    }
    static_cast<Session*>(data)->fail("the display asks for a password (VNC authentication); "
                                      "stubdomctl screenshot takes none");
}

void onError(VncConnection*, const char* message, gpointer data) {
    static_cast<Session*>(data)->fail(std::string("VNC: ") + message);
}

void onDisconnected(VncConnection*, gpointer data) {
    static_cast<Session*>(data)->fail("the display closed the connection before the screen "
                                      "arrived");
}

gboolean onTimeout(gpointer data) {
    auto* s = static_cast<Session*>(data);
    s->timedOut = true;
    s->fail("the screen did not arrive in time");
    return G_SOURCE_REMOVE;
}

void savePng(const Session& s, const std::string& path) {
    std::unique_ptr<GdkPixbuf, Unref> pixbuf(
        gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, s.width, s.height));
    if (!pixbuf)
        throw std::runtime_error("cannot make a picture of that size");
    guchar* out = gdk_pixbuf_get_pixels(pixbuf.get());
    const int stride = gdk_pixbuf_get_rowstride(pixbuf.get());
    for (int row = 0; row < s.height; row++)
        for (int col = 0; col < s.width; col++) {
            const guint8* in = &s.pixels[(static_cast<std::size_t>(row) * s.width + col) * 4];
            guchar* to = out + row * stride + col * 3;
            to[0] = in[0];
            to[1] = in[1];
            to[2] = in[2];
        }
    GError* error = nullptr;
    if (!gdk_pixbuf_save(pixbuf.get(), path.c_str(), "png", &error, nullptr)) {
        std::string why = error ? error->message : "unknown error";
        g_clear_error(&error);
        throw std::runtime_error("cannot write " + path + ": " + why);
    }
}

} // namespace

Capture captureScreen(int fd, const std::string& pngPath, std::chrono::milliseconds timeout) {
    std::unique_ptr<GMainLoop, LoopUnref> loop(g_main_loop_new(nullptr, FALSE));
    std::unique_ptr<VncConnection, Unref> connection(vnc_connection_new());
    Session s;
    s.loop = loop.get();
    s.connection = connection.get();
    g_signal_connect(connection.get(), "vnc-initialized", G_CALLBACK(onInitialized), &s);
    g_signal_connect(connection.get(), "vnc-framebuffer-update", G_CALLBACK(onUpdate), &s);
    g_signal_connect(connection.get(), "vnc-auth-choose-type", G_CALLBACK(onChooseType), &s);
    g_signal_connect(connection.get(), "vnc-error", G_CALLBACK(onError), &s);
    g_signal_connect(connection.get(), "vnc-disconnected", G_CALLBACK(onDisconnected), &s);
    // Shared: a VM manager's viewer on the same display stays connected.
    vnc_connection_set_shared(connection.get(), TRUE);
    if (!vnc_connection_open_fd(connection.get(), fd))
        throw std::runtime_error("gtk-vnc cannot take the display's socket");
    const guint timer = g_timeout_add(static_cast<guint>(timeout.count()), onTimeout, &s);
    g_main_loop_run(loop.get());
    if (!s.timedOut)
        g_source_remove(timer); // it must not fire on `s` once this returns
    const char* name = vnc_connection_get_name(connection.get());
    const std::string desktopName = name ? name : "";
    // gvnc's signals must not reach `s` once this returns.
    g_signal_handlers_disconnect_by_data(connection.get(), &s);
    vnc_connection_shutdown(connection.get());
    if (!s.done)
        throw std::runtime_error(s.error.empty() ? "no screen arrived" : s.error);
    savePng(s, pngPath);
    Capture capture;
    capture.width = s.width;
    capture.height = s.height;
    capture.desktopName = desktopName;
    return capture;
}

} // namespace stubdomctl
