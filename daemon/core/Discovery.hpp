// Discovery (DESIGN.md section 4): what runs on the host, as the hypervisor and dom0's
// nodes say it — a guest, a stub domain, or a domain left alone — never from a name.
// At start it adopts what a previous run left (Adoption.cpp); then @introduceDomain and
// @releaseDomain call it, and each domain list is diffed against what was seen: a new
// guest is recorded, announced and handed to the spawn pipeline; what goes is handed to
// the teardown. A component with its own state: whether a rescan is due.
#pragma once

#include "ConsoleFollower.hpp"
#include "CoreDeps.hpp"
#include "DisplayControl.hpp"
#include "DomainProbe.hpp"
#include "Registry.hpp"
#include "SpawnPipeline.hpp"
#include "StubLinker.hpp"
#include "Teardown.hpp"
#include "config/Settings.hpp"

#include <optional>
#include <set>
#include <string>

namespace stubdomd {

class Discovery {
public:
    using Guest = Registry::Guest;

    Discovery(const Settings& settings, const CoreDeps& deps, DomainProbe& probe,
              StubLinker& linker, Registry& registry, SpawnPipeline& spawns, Teardown& teardown,
              DisplayControl& display, ConsoleFollower& consoles);
    Discovery(const Discovery&) = delete;
    Discovery& operator=(const Discovery&) = delete;

    // Rebuilds the registry from what runs (adopting linked stub domains, destroying
    // half-made ones), then watches @introduceDomain/@releaseDomain.
    void start();
    // One rescan on the next loop turn, however often it is asked for before.
    void scheduleRescan();
    // Lists the domains now and acts on what changed.
    void rescan();
    // (Re)reads the guest's stub config: failed on a bad one, unmanaged without one; else
    // its flavour, display rules and stub memory follow from it.
    void loadSpec(Guest& guest);

private:
    using Kind = Registry::Kind;
    using Seen = Registry::Seen;

    // pausedAtStart: while adopting (start()), the domains listed as paused then; else null.
    void discover(const DomainInfo& info, const std::set<DomId>* pausedAtStart);
    std::optional<DomainFacts> guestFacts(const DomainInfo& info);
    Guest& record(const DomainInfo& info, const DomainFacts& facts);
    void announceNew(Guest& guest);
    void discoverPv(const DomainInfo& info);
    void domainFlagsChanged(const DomainInfo& info);
    void domainGone(DomId domid);
    std::optional<long> dom0DeviceModelPid(const Guest& guest);

    // Adoption (Adoption.cpp)
    void adoptExisting();
    std::optional<std::string> halfMadeStub(const DomainInfo& info);
    std::optional<DomId> recordedStub(const Guest& guest);
    bool adoptStubs(Guest& guest, const std::set<DomId>& pausedAtStart);

    const Settings& settings_;
    const CoreDeps& deps_;
    DomainProbe& probe_;
    StubLinker& linker_;
    Registry& registry_;
    SpawnPipeline& spawns_;
    Teardown& teardown_;
    DisplayControl& display_;
    ConsoleFollower& consoles_;
    bool rescanScheduled_ = false;
};

} // namespace stubdomd
