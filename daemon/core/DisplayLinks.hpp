// OpenDisplay's connections: stubdomd connects to where a guest's display is served (the
// stub's own VNC for vnc-stubdom, the dom0 vfb backend for vnc-dom0) and hands the client
// one end of a socket pair it relays to that connection. Relaying, rather than handing
// over the connected socket itself, is what lets stubdomd see a client leave (and say so:
// DisplayClientChanged) and bound what a client costs: a client that never reads stops
// the relay reading from the server once one buffer is full, one that closes ends the
// relay and its connection at once. The adapter is host/DisplayRelay.
#pragma once

#include "Errors.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace stubdomd {

// Where a display is served: ADDRESS:PORT (an IP literal) over TCP, or, for a Linux stub
// domain, the dom0 socket of its display's vchan proxy. The proxy serves one connection at
// a time (a second would wait unanswered behind the first), so it takes one client.
struct DisplayEndpoint {
    std::string address;
    std::int32_t port = -1;
    std::string socketPath; // set: a unix socket instead of ADDRESS:PORT
    // A display's server (QEMU's VNC) takes several clients; beyond this many per guest a
    // client is refused (Busy) rather than stubdomd's descriptors spent on one guest.
    unsigned maxClients = 4;
};

class DisplayLinks {
public:
    virtual ~DisplayLinks() = default;
    // The client's end of the relay (the caller owns it), or the error: TimedOut (no
    // connection within the timeout), SpawnFailed (refused: nothing serves the display),
    // Busy (the endpoint's maxClients for `key` already).
    using Opened = std::function<void(const std::optional<Error>& error, int fd)>;
    // How many clients `key` has now, after one connected or left.
    using ClientsChanged = std::function<void(bool connected, unsigned clients)>;
    // Connects to the endpoint without blocking (a unix socket not there yet, or not
    // listening yet, is tried again until the timeout: its proxy may have just started);
    // `opened` is called exactly once, possibly before this returns; `changed` once when
    // the client is connected and once when it leaves (its own end closed, or the
    // server's: a stub domain that goes takes its server with it), never after the links
    // are gone. Busy when `key` has the endpoint's maxClients already.
    virtual void open(const std::string& key, const DisplayEndpoint& where, Opened opened,
                      ClientsChanged changed) = 0;
    virtual unsigned clients(const std::string& key) const = 0;
};

} // namespace stubdomd
