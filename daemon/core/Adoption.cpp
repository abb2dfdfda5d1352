// Adoption: what a restarted stubdomd finds of the run before it, which may have been
// killed (SIGKILL) anywhere in its work. What runs is adopted, what was half made is
// destroyed and made again, and nothing is doubled.
#include "core/Discovery.hpp"

#include "core/Excerpt.hpp"
#include "core/Log.hpp"
#include "core/StubFlavour.hpp"
#include "core/XenPaths.hpp"

#include <algorithm>

namespace stubdomd {

void Discovery::adoptExisting() {
    std::vector<DomainInfo> domains = deps_.hypervisor.listDomains();
    // First the links: which stub domains serve which guests. A stub whose guest is
    // gone is destroyed; a stub domain a killed run left mid-spawn, never linked, is
    // destroyed too (see halfMadeStub).
    std::set<DomId> present;
    // The domains the hypervisor lists as paused as this run begins: a guest adopted with
    // its stub domain, both paused, was paused through a previous run (or both by hand)
    // and is shown as paused.
    std::set<DomId> pausedAtStart;
    for (const DomainInfo& info : domains) {
        present.insert(info.domid);
        if (info.paused)
            pausedAtStart.insert(info.domid);
    }
    std::map<std::string, DomId> unlinkedStubs; // by the guest's name
    for (const DomainInfo& info : domains) {
        if (info.domid == 0)
            continue;
        auto target = probe_.readTrusted(paths::target(info.domid));
        auto* value = std::get_if<std::optional<std::string>>(&target);
        auto guest = value && *value ? parseDomid(**value) : std::nullopt;
        if (guest) {
            registry_.see(info.domid) = Seen{Kind::Stub, "a stub domain", info.hvm};
            if (present.count(*guest) && !info.dying && !info.shutdown) {
                registry_.linkStub(info.domid, *guest);
            } else {
                logWarning({"", *guest, info.domid, ""},
                           "destroying a stub domain whose guest is gone");
                spawns_.destroyStub(info.domid);
            }
            continue;
        }
        if (auto guestName = halfMadeStub(info))
            unlinkedStubs[*guestName] = info.domid;
    }
    for (const DomainInfo& info : domains)
        if (!registry_.seenOf(info.domid))
            discover(info, &pausedAtStart);
    for (const auto& [guestName, domid] : unlinkedStubs) {
        logWarning({guestName, std::nullopt, domid, ""},
                   "destroying " + guestName + "-dm, left unlinked by an interrupted spawn");
        registry_.see(domid) = Seen{Kind::Stub, "a stub domain", false};
        // The respawn queued for the guest would clash with this name: hold the queue
        // until the leftover is gone.
        spawns_.destroyHoldingQueue(domid);
    }
}

// The guest's name when `info` is a stub domain a killed run of ours was creating, never
// linked: what it is comes from facts, not from its name. xl made it a PV domain, paused
// (`create -p`; the unpause comes only after the link), no `target` is set yet, and its
// kernel — dom0's record at /vm/<uuid>/image/kernel — is the stub kernel of the guest it
// was made for. The name (<guest>-dm) only says which guest's configuration to compare
// with: a PV guest that merely has such a name runs, or boots a kernel of its own, and is
// left alone.
std::optional<std::string> Discovery::halfMadeStub(const DomainInfo& info) {
    if (info.hvm || !info.paused || info.dying || info.shutdown)
        return std::nullopt;
    // Only dom0's word counts; a refused node just means "not one of ours", unlogged, as
    // for any PV domain.
    const auto trusted = [this](const std::string& path) -> std::optional<std::string> {
        auto read = probe_.readTrusted(path);
        auto* value = std::get_if<std::optional<std::string>>(&read);
        return value ? *value : std::nullopt;
    };
    auto name = trusted(paths::name(info.domid));
    const std::string suffix = "-dm";
    if (!name || name->size() <= suffix.size() ||
        name->compare(name->size() - suffix.size(), suffix.size(), suffix) != 0)
        return std::nullopt;
    auto uuid = probe_.uuid(info.domid);
    if (!std::holds_alternative<std::string>(uuid))
        return std::nullopt;
    auto kernel = trusted(paths::vmImageKernel(std::get<std::string>(uuid)));
    if (!kernel)
        return std::nullopt;
    const std::string guestName = name->substr(0, name->size() - suffix.size());
    // Its guest is ours, or is gone (it may go while no stubdomd runs) and still has a
    // stub-domain configuration.
    std::optional<StubSpec> spec;
    if (const Guest* guest = registry_.byName(guestName)) {
        spec = guest->spec;
    } else {
        try {
            spec = deps_.specs.load(guestName);
        } catch (const Error& e) {
            logWarning({guestName, std::nullopt, info.domid, ""},
                       "leaving " + *name + " alone: " + e.what());
            return std::nullopt;
        }
    }
    if (!spec || stubKernel(*spec, settings_) != *kernel)
        return std::nullopt;
    return guestName;
}

// The stub domain image/device-model-domid names, if it is one whose target (dom0's,
// read by adoptExisting) is this guest; otherwise why not, logged.
std::optional<DomId> Discovery::recordedStub(const Guest& guest) {
    const DomId g = guest.view.domid;
    const std::string path = paths::deviceModelDomid(g);
    const auto text = valueOrLoggedRefusal(probe_.readTrusted(path), fieldsOf(guest));
    if (!text)
        return std::nullopt;
    auto stub = parseDomid(*text);
    std::string why;
    if (!stub) {
        why = "'" + excerpt(*text) + "', not a domid";
    } else if (auto served = registry_.guestOfStub(*stub); !served) {
        why = std::to_string(*stub) + ", which is no stub domain (its target is not set)";
    } else if (*served != g) {
        why = std::to_string(*stub) + ", but domain " + std::to_string(*stub) +
              " is the stub domain of domain " + std::to_string(*served);
    } else {
        return stub;
    }
    logWarning(fieldsOf(guest), path + " is " + why + "; ignoring it");
    return std::nullopt;
}

// The stub domains linked to a guest by the previous run: the one its
// image/device-model-domid names is adopted if its device model runs; any other, or
// that one if it never reached running, is destroyed, and the guest is spawned again
// once they are gone (the new stub domain takes the same name). False when the guest
// has no linked stub domain at all.
bool Discovery::adoptStubs(Guest& g, const std::set<DomId>& pausedAtStart) {
    const DomId guestDomid = g.view.domid;
    const std::vector<DomId> linked = registry_.stubsOf(guestDomid);
    if (linked.empty())
        return false;

    auto named = recordedStub(g);
    std::optional<DomId> adopted;
    if (named && std::find(linked.begin(), linked.end(), *named) != linked.end() &&
        spawns_.deviceModelRunning(g, *named))
        adopted = named;
    std::vector<DomId> leftovers;
    for (DomId stub : linked) {
        if (stub == adopted)
            continue;
        registry_.forgetStub(stub);
        leftovers.push_back(stub);
    }

    if (adopted) {
        registry_.see(*adopted).kind = Kind::Stub;
        // Facts, not a memory of the previous run: both paused is what Pause leaves (a
        // guest alone paused is what `xl pause` does, and it stays running to stubdomd).
        const bool paused = pausedAtStart.count(g.view.domid) && pausedAtStart.count(*adopted);
        registry_.transition(g, paused ? GuestState::Paused : GuestState::Running,
                             paused ? "found paused with its stub domain when stubdomd started"
                                    : "adopted from a previous run",
                             [&](GuestView& v) { v.stubDomid = *adopted; });
        g.runningSince = deps_.timers.now();
        logInfo(fieldsOf(g), paused ? "adopted paused stub domain (the guest is paused too)"
                                    : "adopted running stub domain");
        try {
            display_.show(g, *adopted, false); // its password was handed over at its start
        } catch (const Error& e) {
            logWarning(fieldsOf(g), std::string("display of the adopted stub domain: ") + e.what());
        }
        try {
            spawns_.openMonitor(g, *adopted); // the previous run's proxy died with it
        } catch (const Error& e) {
            logWarning(fieldsOf(g),
                       std::string("QMP channel of the adopted stub domain: ") + e.what());
        }
        spawns_.followConsole(g, *adopted); // the log goes on where the previous run left it
        registry_.announce(g);
        for (DomId stub : leftovers) {
            logWarning(fieldsOf(g), "destroying stub domain " + std::to_string(stub) +
                                        ", a second one linked to the guest");
            spawns_.destroyStub(stub);
        }
        return true;
    }

    // Half-started or half-linked by the previous run: start over from a clean slate.
    logWarning(fieldsOf(g), "stub domain never reached running; destroying it and respawning");
    linker_.tearDown(guestDomid, g.view.uuid, Unlink::Links, fieldsOf(g));
    registry_.transition(g, GuestState::Pending, g.view.stateReason);
    registry_.announce(g);
    auto remaining = std::make_shared<std::size_t>(leftovers.size());
    for (DomId stub : leftovers)
        spawns_.destroyStub(stub, [this, guestDomid, remaining](const ToolResult&) {
            if (--*remaining > 0)
                return;
            if (Guest* again = registry_.byDomid(guestDomid);
                again && again->view.state == GuestState::Pending)
                spawns_.enqueue(*again);
        });
    return true;
}

} // namespace stubdomd
