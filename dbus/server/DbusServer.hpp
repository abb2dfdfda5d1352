// stubdomd on the system bus: owns the connection and every exported object, keeps
// them in step with the core's notifications, and runs on the daemon's EventLoop.
//
// Order of life (DESIGN.md section 3): connect, export the Manager, the guests the
// core already knows and the helpers, then take the name org.xen.Stubdom last, so a
// client that sees the name sees complete objects.
#pragma once

#include "core/GuestService.hpp"
#include "core/HelperService.hpp"
#include "dbus/server/Authorizer.hpp"
#include "dbus/server/HelperObject.hpp"
#include "dbus/server/ManagerObject.hpp"
#include "dbus/server/PendingReplies.hpp"
#include "dbus/server/ServerContext.hpp"
#include "dbus/server/ServerInfo.hpp"
#include "loop/EventLoop.hpp"

#include "dbus/server/SdBusHandles.hpp"

#include <map>
#include <memory>
#include <string>

namespace stubdomd::dbus {

class DbusServer final : private GuestObserver, private HelperObserver {
public:
    // Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS when set), exports every
    // object, registers as observer of `guests` (and `helpers`, which may be null:
    // no helper objects then) and finally requests org.xen.Stubdom. Throws
    // Error(Internal) when the bus is unreachable or the name cannot be owned.
    // `loop`, `guests` and `helpers` must outlive the server.
    // `pvgrub` (may be null) answers Manager.PvGrubConfig and PvGrubCheck.
    DbusServer(EventLoop& loop, GuestService& guests, HelperService* helpers, ServerInfo info,
               PvGrubService* pvgrub = nullptr);
    ~DbusServer() override;
    DbusServer(const DbusServer&) = delete;
    DbusServer& operator=(const DbusServer&) = delete;

    // Puts the bus fd into the loop and installs the loop's beforePoll hook (the
    // server is the hook's only user). Until this, nothing is read or answered.
    // If the bus connection breaks, the error is logged and loop.stop() is called:
    // a stubdomd without the bus is of no use, and systemd restarts it.
    void attachToLoop();

    std::string uniqueName() const;
    // The connection, for the daemon's other users of the system bus (logind), which
    // must go before the server.
    sd_bus* bus() { return bus_.get(); }
    // Calls still waiting for the core or polkit (for tests and the benchmark).
    std::size_t pendingReplies() const { return replies_.size(); }

private:
    // GuestObserver
    void guestAdded(const GuestView& guest) override;
    void guestChanged(const GuestView& guest, std::uint32_t fields) override;
    void stubFailed(const GuestView& guest, const std::string& cause,
                    const std::string& message) override;
    void displayClientChanged(const GuestView& guest, bool connected, unsigned clients) override;
    void guestRemoved(const GuestView& guest) override;
    // HelperObserver
    void helperChanged(const HelperView& helper, std::uint32_t fields) override;

    void exportGuest(const GuestView& guest, bool announce);
    void dispatch() noexcept;
    int prepareLoop() noexcept;
    // sd-bus's next timeout as poll() wants it: -1 none, 0 now, else milliseconds.
    int pollTimeout() const;

    // The guests' fallback vtable: the GuestObject of a guest path, if exported.
    static int findGuest(sd_bus* bus, const char* path, const char* interface, void* userdata,
                         void** found, sd_bus_error* error);
    // Every guest path, for introspection and GetManagedObjects.
    static int enumerateGuests(sd_bus* bus, const char* prefix, void* userdata, char*** nodes,
                               sd_bus_error* error);

    EventLoop& loop_;
    GuestService& guests_;
    HelperService* helpers_;
    // Destruction runs bottom up: objects, then the gate (drops pending polkit calls),
    // then pending replies (answered while the connection still exists), connection last.
    SdBus bus_;
    PendingReplies replies_;
    Authorizer authorizer_;
    ResourceWatchers resources_; // before the objects that hand out its descriptors
    ServerContext context_;
    GuestObjects guestObjects_;
    GuestRows guestRows_; // ListGuests' rows: changed wherever guestObjects_ is
    SdSlot objectManager_;
    SdSlot guestVtable_; // one for every guest (GuestObject.hpp)
    SdSlot guestEnumerator_;
    std::unique_ptr<ManagerObject> manager_;
    std::map<std::string, std::unique_ptr<HelperObject>> helperObjects_;
    int busFd_ = -1;
};

} // namespace stubdomd::dbus
