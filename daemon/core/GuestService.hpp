// The core's face towards the D-Bus layer: queries, commands with asynchronous
// completion, and change notifications. Implemented by GuestManager; the D-Bus
// adaptors depend only on this header.
#pragma once

#include "Errors.hpp"
#include "GuestView.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace stubdomd {

class GuestObserver {
public:
    virtual ~GuestObserver() = default;
    // Called once the guest's view is complete (announce it then, not before).
    virtual void guestAdded(const GuestView& guest) = 0;
    // `fields` is a GuestField mask of what changed since the last notification.
    virtual void guestChanged(const GuestView& guest, std::uint32_t fields) = 0;
    virtual void guestRemoved(const GuestView& guest) = 0;
};

// Completion of a slow command: nullopt on success, or the error to report.
using Completion = std::function<void(const std::optional<Error>& error)>;

class GuestService {
public:
    virtual ~GuestService() = default;

    virtual std::vector<GuestView> guests() const = 0;
    // By name or uuid; nullopt when unknown.
    virtual std::optional<GuestView> findGuest(const std::string& nameOrUuid) const = 0;
    // By the guest's or its stub domain's domid.
    virtual std::optional<GuestView> findGuestByDomid(DomId domid) const = 0;

    // Each command either throws Error at once (unknown guest, wrong state) or
    // accepts and later calls `done` exactly once from the event loop: Start and
    // Attach when the stub domain runs or fails, Stop when it is gone.
    virtual void start(const std::string& uuid, Completion done) = 0;
    virtual void stop(const std::string& uuid, Completion done) = 0;
    virtual void restart(const std::string& uuid, Completion done) = 0;
    // Manage this HVM domain now (stubdom-dm); the guest's uuid is returned through
    // `done` having been called and findGuestByDomid then succeeding.
    virtual void attach(DomId domid, Completion done) = 0;
    // Re-read stubdomd.json-independent configuration (the stub configs).
    virtual void reload() = 0;

    virtual void addObserver(GuestObserver& observer) = 0;
    virtual void removeObserver(GuestObserver& observer) = 0;
};

} // namespace stubdomd
