#include "BusSource.hpp"

#include <poll.h>

namespace vmmanager {

namespace {

// A GSource with the Client's fd and deadline. What to poll for can change after every
// processEvents() (POLLOUT while a message waits to be sent, a deadline while a call or a
// match is pending), so prepare() asks again each time round the loop.
struct ClientSource {
    GSource base;
    stubdom::Client* client;
    gpointer fdTag;
    gint64 deadline; // monotonic µs; -1: none
};

gushort toGlib(short events) {
    gushort out = 0;
    if (events & POLLIN)
        out |= G_IO_IN;
    if (events & POLLOUT)
        out |= G_IO_OUT;
    return out | G_IO_ERR | G_IO_HUP;
}

gboolean prepare(GSource* base, gint* timeout) {
    auto* s = reinterpret_cast<ClientSource*>(base);
    const auto info = s->client->pollInfo();
    g_source_modify_unix_fd(base, s->fdTag, static_cast<GIOCondition>(toGlib(info.events)));
    *timeout = info.timeoutMs;
    s->deadline = info.timeoutMs < 0 ? -1 : g_source_get_time(base) + info.timeoutMs * 1000;
    return info.timeoutMs == 0;
}

gboolean check(GSource* base) {
    auto* s = reinterpret_cast<ClientSource*>(base);
    // The deadline counts as an event too: sd-bus then times out a call or retries.
    return g_source_query_unix_fd(base, s->fdTag) != 0 ||
           (s->deadline >= 0 && g_source_get_time(base) >= s->deadline);
}

gboolean dispatch(GSource* base, GSourceFunc, gpointer) {
    auto* s = reinterpret_cast<ClientSource*>(base);
    // Never blocks: the loop already knows something is there. The callbacks registered
    // with onGuestAdded & co. run from here, on the main thread, like any GTK handler.
    s->client->processEvents(stubdom::Timeout{0});
    return G_SOURCE_CONTINUE;
}

GSourceFuncs kFuncs = {prepare, check, dispatch, nullptr, nullptr, nullptr};

} // namespace

BusSource::BusSource(stubdom::Client& client)
    : source_(g_source_new(&kFuncs, sizeof(ClientSource))) {
    auto* s = reinterpret_cast<ClientSource*>(source_);
    s->client = &client;
    s->fdTag = g_source_add_unix_fd(source_, client.fd(), G_IO_IN);
    s->deadline = -1;
    g_source_set_name(source_, "stubdom-client");
    g_source_attach(source_, nullptr);
}

BusSource::~BusSource() {
    g_source_destroy(source_);
    g_source_unref(source_);
}

} // namespace vmmanager
