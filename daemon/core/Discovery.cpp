// Discovery: the watches, the domain-list diff, the trust rule applied to new
// domains; what goes is handed to the teardown (Teardown.cpp).
#include "core/Discovery.hpp"

#include "core/Excerpt.hpp"
#include "core/Log.hpp"
#include "core/PvGrub.hpp"
#include "core/StubMemory.hpp"
#include "core/XenPaths.hpp"

#include <algorithm>

namespace stubdomd {

namespace {

struct PvBoot {
    std::string uuid;
    std::string kernel;
};

// What discovery needs of a PV domain: the kernel libxl recorded for it, to list the
// guests booted through a PV-GRUB image. Two dom0-owned nodes are all a new PV domain
// costs (stub domains included); only a PV-GRUB guest's name is read on top.
std::variant<PvBoot, ProbeRefusal> probePvBoot(DomainProbe& probe, DomId domid) {
    auto uuidOrRefusal = probe.uuid(domid);
    if (auto* refusal = std::get_if<ProbeRefusal>(&uuidOrRefusal))
        return *refusal;
    const auto& uuid = std::get<std::string>(uuidOrRefusal);
    auto kernel = probe.readTrusted(paths::vmImageKernel(uuid));
    if (auto* refusal = std::get_if<ProbeRefusal>(&kernel))
        return *refusal;
    const auto& kernelValue = std::get<std::optional<std::string>>(kernel);
    // libxl writes it for every PV domain it builds, before the domain is introduced.
    if (!kernelValue)
        return ProbeRefusal{paths::vmImageKernel(uuid) + " does not exist yet", true};
    return PvBoot{uuid, *kernelValue};
}

} // namespace

Discovery::Discovery(const Settings& settings, const CoreDeps& deps, DomainProbe& probe,
                     StubLinker& linker, Registry& registry, SpawnPipeline& spawns,
                     Teardown& teardown, DisplayControl& display, ConsoleFollower& consoles)
    : settings_(settings), deps_(deps), probe_(probe), linker_(linker), registry_(registry),
      spawns_(spawns), teardown_(teardown), display_(display), consoles_(consoles) {}

void Discovery::start() {
    adoptExisting();
    // Both fire once on registration; the rescan they cause finds nothing new.
    const auto rescanSoon = [this](const std::string&) {
        scheduleRescan();
    };
    deps_.store.watch(paths::kIntroduceDomain, rescanSoon);
    deps_.store.watch(paths::kReleaseDomain, rescanSoon);
}

// A boot storm fires one @introduceDomain per domain; coalescing them into one
// rescan per loop iteration keeps the cost per event at one list call at most.
void Discovery::scheduleRescan() {
    if (rescanScheduled_)
        return;
    rescanScheduled_ = true;
    deps_.timers.after(std::chrono::milliseconds(0), [this] {
        rescanScheduled_ = false;
        rescan();
    });
}

void Discovery::rescan() {
    std::vector<DomainInfo> domains;
    try {
        domains = deps_.hypervisor.listDomains();
    } catch (const Error& e) {
        logError({}, std::string("cannot list domains: ") + e.what());
        return;
    }
    const Registry::ListDiff diff = registry_.takeList(domains);
    for (const auto& [info, listing] : diff.listed) {
        if (listing == Registry::Listing::New)
            discover(info, nullptr);
        else if (listing == Registry::Listing::RetryPv)
            discoverPv(info);
        else
            domainFlagsChanged(info);
    }
    for (DomId domid : diff.gone)
        domainGone(domid);
}

void Discovery::loadSpec(Guest& guest) {
    guest.configError = false;
    guest.configErrorCode = ErrorCode::InvalidConfig;
    guest.spec.reset();
    try {
        guest.spec = deps_.specs.load(guest.view.name);
    } catch (const Error& e) {
        guest.configError = true;
        registry_.fail(guest, e.what());
        logError(fieldsOf(guest), std::string("bad stub-domain configuration: ") + e.what());
        return;
    }
    if (!guest.spec) {
        registry_.transition(guest, GuestState::Unmanaged,
                             "no stub-domain configuration " + settings_.xenConfigDir +
                                 "/stubdom-" + guest.view.name);
        return;
    }
    registry_.mutate(guest, [&](GuestView& v) { v.flavour = guest.spec->flavour; });
    display_.applyRules(guest);
    showStubMemory(registry_, settings_, guest);
}

void Discovery::discover(const DomainInfo& info, const std::set<DomId>* pausedAtStart) {
    const auto facts = guestFacts(info);
    if (!facts)
        return;
    Guest& g = record(info, *facts);
    // A stub domain linked by a previous run of stubdomd is adopted, never doubled.
    if (pausedAtStart && g.spec && adoptStubs(g, *pausedAtStart))
        return;
    announceNew(g);
}

// What a new domain is, from the hypervisor and dom0's nodes: the facts of an HVM guest,
// or nullopt with what it is noted as seen (a PV domain is discoverPv's).
std::optional<DomainFacts> Discovery::guestFacts(const DomainInfo& info) {
    Seen& seen = registry_.see(info.domid);
    seen.hvm = info.hvm;
    if (info.domid == 0) {
        seen.why = "domain 0 is dom0";
        return std::nullopt;
    }
    if (info.dying || info.shutdown) {
        seen.why = info.hvm ? "the domain is shutting down" : "not an HVM guest";
        return std::nullopt;
    }
    if (!info.hvm) {
        discoverPv(info);
        return std::nullopt;
    }
    auto probed = probe_.probe(info.domid);
    if (auto* refusal = std::get_if<ProbeRefusal>(&probed)) {
        if (refusal->retryLater) {
            registry_.forgetSeen(info.domid); // look again on the next event
            return std::nullopt;
        }
        seen.why = refusal->reason;
        logWarning({"", info.domid, std::nullopt, ""},
                   "ignoring domain " + std::to_string(info.domid) + ": " + refusal->reason);
        return std::nullopt;
    }
    const DomainFacts& facts = std::get<DomainFacts>(probed);
    if (facts.target) {
        seen.why = "domain " + std::to_string(info.domid) + " is a stub domain";
        return std::nullopt;
    }
    // One uuid is one guest (and one D-Bus object). A second domain with it is looked at
    // again once the first is gone (libxl's local migration briefly runs both).
    if (const Guest* known = registry_.byUuid(facts.uuid)) {
        logWarning({"", info.domid, std::nullopt, ""},
                   "ignoring domain " + std::to_string(info.domid) +
                       " for now: " + paths::vm(info.domid) + " is /vm/" + facts.uuid +
                       ", already the uuid of domain " + std::to_string(known->view.domid) + " (" +
                       known->view.name + ")");
        registry_.forgetSeen(info.domid);
        return std::nullopt;
    }
    seen.kind = Kind::Guest;
    return facts;
}

// The new guest in the registry, not yet announced, with its stub config and display
// rules read, failed if it has a device model in dom0 already.
Discovery::Guest& Discovery::record(const DomainInfo& info, const DomainFacts& facts) {
    auto guest = std::make_unique<Guest>();
    guest->view.name = facts.name;
    guest->view.uuid = facts.uuid;
    guest->view.domid = info.domid;
    guest->paused = info.paused;
    Guest& g = registry_.add(info.domid, std::move(guest));

    // What it is came from the hypervisor (HVM) and dom0's nodes (no `target`): any name
    // xl accepts is a guest's name, one ending in -dm too.
    loadSpec(g);
    if (g.view.state == GuestState::Failed)
        return g;
    // Never two device models: a dom0 qemu the toolstack started wins, and the
    // administrator is told how to hand the guest to stubdomd instead.
    if (auto pid = dom0DeviceModelPid(g)) {
        std::string process = deps_.processName(*pid);
        if (!process.empty() && process != "stubdom-dm") {
            std::string reason = "the guest already has a device model in dom0 (pid " +
                                 std::to_string(*pid) + ", " + process +
                                 "); set its device_model to stubdom-dm to use a stub domain";
            registry_.fail(g, reason);
            logError(fieldsOf(g), reason);
        }
    }
    return g;
}

// Announced as what it is: about to be spawned (queued), or failed, or unmanaged.
void Discovery::announceNew(Guest& g) {
    bool managed = g.spec && g.view.state != GuestState::Failed;
    if (managed)
        registry_.transition(g, GuestState::Pending, g.view.stateReason);
    registry_.announce(g);
    if (managed) {
        logInfo(fieldsOf(g), "new HVM guest with a stub-domain configuration");
        spawns_.enqueue(g);
    }
}

// libxl's record of a dom0 device model: only dom0's word, and only a process id.
std::optional<long> Discovery::dom0DeviceModelPid(const Guest& guest) {
    const std::string path = paths::deviceModelPid(guest.view.domid);
    const auto text = valueOrLoggedRefusal(probe_.readTrusted(path), fieldsOf(guest));
    if (!text)
        return std::nullopt;
    auto value = parsePid(*text);
    if (!value)
        logWarning(fieldsOf(guest),
                   path + " is '" + excerpt(*text) + "', not a process id; ignoring it");
    return value;
}

// A PV guest booted through a PV-GRUB image is listed (flavour pv-grub, unmanaged):
// visible, never touched. Other PV domains, stub domains among them, are only seen.
void Discovery::discoverPv(const DomainInfo& info) {
    Seen& seen = registry_.see(info.domid);
    seen.why = "not an HVM guest";
    seen.pvRetry = false;
    // Perhaps our own stub domain, not yet named by `xl domid`: looked at once it is.
    if (spawns_.deferPvProbe()) {
        seen.pvRetry = true;
        return;
    }
    // Known as a PV domain all the same (Attach answers NotHvm), looked at again on the
    // next event when a node is not written yet: the domain's own @introduceDomain comes
    // after libxl's writes.
    const auto refused = [&](const ProbeRefusal& refusal) {
        if (refusal.retryLater)
            seen.pvRetry = true;
        else
            logWarning({"", info.domid, std::nullopt, ""},
                       "PV domain " + std::to_string(info.domid) + ": " + refusal.reason);
    };
    auto boot = probePvBoot(probe_, info.domid);
    if (auto* refusal = std::get_if<ProbeRefusal>(&boot))
        return refused(*refusal);
    const PvBoot& pv = std::get<PvBoot>(boot);
    if (!pvgrub::recogniseImage(pv.kernel))
        return;
    auto name = probe_.name(info.domid);
    if (auto* refusal = std::get_if<ProbeRefusal>(&name))
        return refused(*refusal);
    auto guest = std::make_unique<Guest>();
    guest->view.name = std::get<std::string>(name);
    guest->view.uuid = pv.uuid;
    guest->view.domid = info.domid;
    guest->view.flavour = Flavour::PvGrub;
    seen.kind = Kind::Guest;
    Guest& g = *guest;
    registry_.add(info.domid, std::move(guest));
    registry_.transition(g, GuestState::Unmanaged,
                         "a PV guest booted through PV-GRUB (" + pv.kernel +
                             "): listed, never touched by stubdomd");
    logInfo(fieldsOf(g), "PV guest booted through PV-GRUB (" + pv.kernel + ")");
    registry_.announce(g);
}

void Discovery::domainFlagsChanged(const DomainInfo& info) {
    Seen& seen = registry_.see(info.domid); // known: listed before
    if (seen.kind == Kind::Guest)
        if (Guest* guest = registry_.byDomid(info.domid))
            guest->paused = info.paused;
    if (!info.dying && !info.shutdown)
        return;
    if (seen.kind == Kind::Guest) {
        seen = Seen{Kind::Ignored, "the domain is shutting down", info.hvm};
        teardown_.guestGone(info.domid);
    } else if (seen.kind == Kind::Stub) {
        seen.kind = Kind::Ignored;
        seen.why = "a dead stub domain";
        teardown_.stubGone(info.domid, true,
                           info.shutdown ? std::optional<unsigned>(info.shutdownReason)
                                         : std::nullopt);
    }
}

void Discovery::domainGone(DomId domid) {
    const Kind kind = registry_.seenOf(domid)->kind; // gone: it was listed before
    registry_.forgetSeen(domid);
    consoles_.stop(domid);
    if (kind == Kind::Guest)
        teardown_.guestGone(domid);
    else if (kind == Kind::Stub)
        teardown_.stubGone(domid, false);
    else
        registry_.forgetStub(domid); // a dead stub domain we had already handled
}

} // namespace stubdomd
