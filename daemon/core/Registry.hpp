// The registry: every guest the engine knows, which stub domain serves which guest, what
// each domid was found to be, and who is told of changes. The one place the state table
// (GuestStates.hpp) is applied: transition() is the only writer of a guest's state, and
// every change of a guest's view reaches the observers through it or mutate().
#pragma once

#include "Display.hpp"
#include "GuestService.hpp"
#include "Hypervisor.hpp"
#include "Log.hpp"
#include "Store.hpp"
#include "StubSpec.hpp"
#include "Timers.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace stubdomd {

// What the engine keeps of one guest beside its view.
struct EngineGuest {
    GuestView view;
    std::optional<StubSpec> spec;
    bool announced = false;
    bool configError = false; // failed on its stub config: Reload and Start retry it
    ErrorCode configErrorCode = ErrorCode::InvalidConfig; // InvalidDisplay for display rules
    std::optional<DisplayPlan> display;                   // the set-up of the next/current stub
    std::optional<GuestDisplayConfig> toolstackDisplay;   // what the toolstack told stubdom-dm
    unsigned consecutiveRestarts = 0;
    Clock::time_point runningSince{};
    std::uint64_t consoleLogFrom = 0; // the log's size when this stub's console was followed
    bool paused = false;              // as the hypervisor last said
    std::string lastIgnored; // the last untrusted node logged, so a guest cannot flood the log
    // Start's or Restart's stub-memory: it outlives the stub it was given for, so that the
    // restart policy's stubs get it too, until the next Start, Restart or Reload.
    std::optional<std::uint64_t> stubMemoryOverrideMiB;
};

// The log fields naming a guest (and its stub, once it has one).
LogFields fieldsOf(const EngineGuest& guest);

class Registry {
public:
    using Guest = EngineGuest;
    using ViewEdit = std::function<void(GuestView&)>;
    enum class Kind { Guest, Stub, Ignored };
    struct Seen {
        Kind kind = Kind::Ignored;
        std::string why; // for Ignored: the reason, reported by Attach
        bool hvm = false;
        bool pvRetry = false; // a PV domain libxl has not finished writing: look again
    };
    struct Counts {
        unsigned guests = 0;
        unsigned managed = 0;
        unsigned running = 0;
        unsigned paused = 0;
        unsigned failed = 0;
        unsigned inProgress = 0;
    };

    Registry() = default;
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    // Each guest in domid order (announced or not); `visit` may change a guest, never
    // add or remove one.
    void forEach(const std::function<void(Guest&)>& visit);
    Guest* byDomid(DomId domid);
    // The guest with this uuid (one uuid is one guest: discovery sees to it), or name.
    Guest* byUuid(const std::string& uuid);
    Guest* byName(const std::string& name);
    // The announced guest with this uuid, as a command names it; NoSuchGuest otherwise.
    Guest& announced(const std::string& uuid);
    // The stub domains linked to the guest.
    std::vector<DomId> stubsOf(DomId guest) const;
    // From now on `stub` serves `guest`, and is seen as a stub domain.
    void linkStub(DomId stub, DomId guest);
    // The guest a linked stub domain serves; nullopt for any other domain.
    std::optional<DomId> guestOfStub(DomId stub) const;
    // The stub domain no longer serves its guest (it is gone or being destroyed).
    void forgetStub(DomId stub) { stubs_.erase(stub); }

    // What each domid was found to be: null for one not looked at yet; see() makes the
    // entry discovery fills in; forgetSeen() has the domid looked at again on the next list.
    const Seen* seenOf(DomId domid) const;
    Seen& see(DomId domid) { return seen_[domid]; }
    void forgetSeen(DomId domid) { seen_.erase(domid); }
    // Whether the latest domain list had it.
    bool isListed(DomId domid) const { return listed_.count(domid) != 0; }

    // A new domain list against what was seen, kept as listed(): each listed domain in
    // domid order, new, known, or a PV domain libxl had not finished writing when it was
    // first seen; and the domids seen before that are no longer listed.
    enum class Listing { New, Known, RetryPv };
    struct ListDiff {
        std::vector<std::pair<DomainInfo, Listing>> listed;
        std::vector<DomId> gone;
    };
    ListDiff takeList(const std::vector<DomainInfo>& domains);

    // A new guest, not yet announced: nobody hears of it until announce().
    Guest& add(DomId domid, std::unique_ptr<Guest> guest);
    // The guest is complete: observers hear of it, and it counts.
    void announce(Guest& guest);
    // The guest is gone: observers hear of it (if they heard of it at all).
    void remove(DomId domid);

    // transition() is the only writer of a guest's state: it checks the table, sets the
    // state and its reason, applies `also` (more of the view, such as a teardown step, in
    // the same PropertiesChanged), logs and notifies. A refused change is logged as an
    // error and not made (false).
    bool transition(Guest& guest, GuestState to, std::string reason, const ViewEdit& also = {});
    // The one way to fail a guest: failed, why, and the error to keep (`lastError`).
    void fail(Guest& guest, const std::string& reason, const std::string& lastError,
              const ViewEdit& also = {});
    void fail(Guest& guest, const std::string& reason) { fail(guest, reason, reason); }
    // Any other change of the view (never its state), and its notification.
    void mutate(Guest& guest, const ViewEdit& change);
    // The guest's stub domain died on its own: observers hear why (StubDeath.hpp's cause).
    void stubFailed(const Guest& guest, const std::string& cause, const std::string& message);
    // A display client of the guest connected or left (DisplayLinks).
    void displayClientChanged(const Guest& guest, bool connected, unsigned clients);

    Counts counts() const;
    // Called whenever counts() may have changed (sd_notify STATUS=).
    void onCountsChanged(std::function<void()> callback) { countsChanged_ = std::move(callback); }

    // The read side of GuestService: announced guests only.
    std::vector<GuestView> views() const;
    std::optional<GuestView> find(const std::string& nameOrUuid) const;
    // By the guest's domid or its stub domain's.
    std::optional<GuestView> findByDomid(DomId domid) const;
    void addObserver(GuestObserver& observer);
    void removeObserver(GuestObserver& observer);

private:
    void notify(Guest& guest, const GuestView& before);
    void countsMayHaveChanged() {
        if (countsChanged_)
            countsChanged_();
    }

    std::map<DomId, std::unique_ptr<Guest>> guests_; // by guest domid
    std::map<DomId, DomId> stubs_;                   // stub domid → guest domid
    std::map<DomId, Seen> seen_;                     // every domid classified so far
    std::set<DomId> listed_;                         // the domids of the latest list
    std::vector<GuestObserver*> observers_;
    std::function<void()> countsChanged_;
};

} // namespace stubdomd
