// A GuestManager wired to the fakes, plus a tiny "xl" that plays the toolstack's
// effects on the fake domain table and store when the test lets a command finish.
#pragma once

#include "Fakes.hpp"
#include "core/GuestManager.hpp"
#include "core/XenPaths.hpp"

#include <functional>
#include <memory>
#include <set>

namespace stubdomd::fakes {

struct Harness {
    FakeStore store;
    FakeHypervisor hypervisor;
    FakeToolstack toolstack;
    FakeTimers timers;
    FakeSpecs specs;
    RecordingObserver observer;
    Settings settings;
    std::map<std::string, std::string> files; // written stub configs
    std::map<long, std::string> processes;    // dom0 pid → command name
    std::unique_ptr<GuestManager> manager;
    DomId nextDomid = 100;
    bool stubsReachRunning = true;
    std::set<std::string> unreadable; // files fileReadable says root cannot read

    Harness() {
        settings.runtimeDir = "/run/stubdomd";
        settings.xenConfigDir = "/etc/xen";
        hypervisor.domains[0] = DomainInfo{0, false, false, false, false, 1024 * 1024};
        store.put("/local/domain/0/name", "Domain-0");
    }

    void startManager() { startManagerWith({}); }
    // `before` configures the manager (gate, display sources, monitor) before its start.
    void startManagerWith(const std::function<void(GuestManager&)>& before) {
        // A restarted daemon has a new xenstore connection: the old one's watches and
        // queued events went with it.
        manager.reset();
        store.closeConnection();
        manager = std::make_unique<GuestManager>(
            settings,
            CoreDeps{store, hypervisor, toolstack, timers, specs,
                     [this](const std::string& p, const std::string& c) { files[p] = c; },
                     [this](long pid) { return processes.count(pid) ? processes[pid] : ""; },
                     [this](const std::string& p) {
                         return !unreadable.count(p);
                     }});
        manager->addObserver(observer);
        if (before)
            before(*manager);
        manager->start();
        settle();
    }

    static std::string uuidFor(DomId d) {
        char buf[40];
        std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012u", d);
        return buf;
    }

    // A domain as the toolstack makes it: dom0-owned nodes, guest-readable.
    void makeDomain(DomId d, const std::string& name, bool hvm, DomId nameOwner = 0) {
        hypervisor.domains[d] = DomainInfo{d, hvm, false, false, false, 262144};
        store.put(paths::domain(d), "");
        store.put(paths::name(d), name, nameOwner);
        store.put(paths::vm(d), "/vm/" + uuidFor(d));
        store.put("/vm/" + uuidFor(d) + "/name", name);
    }
    DomId addGuest(const std::string& name, bool hvm = true, DomId nameOwner = 0) {
        DomId d = nextDomid++;
        makeDomain(d, name, hvm, nameOwner == 1 ? d : 0);
        store.fireSpecial(paths::kIntroduceDomain);
        settle();
        return d;
    }
    void withSpec(const std::string& name) {
        StubSpec spec;
        spec.sourceFile = "/etc/xen/stubdom-" + name;
        spec.kernel = "/usr/lib/xen/boot/ioemu-stubdom.gz";
        spec.vifs = {"", "ip=10.0.1.1,mac=aa:00:00:12:23:34"};
        spec.disks = {"file:/tmp/test,hdb,r"};
        specs.specs[name] = spec;
    }
    // The most common start of a test: a guest with a stub config, and its stub running.
    struct RunningGuest {
        DomId guest;
        DomId stub;
    };
    RunningGuest runningGuest(const std::string& name) {
        withSpec(name);
        startManager();
        const DomId guest = addGuest(name);
        runXl();
        return {guest, view(name).stubDomid};
    }
    // As libxl's destroy does: the domain's /local/domain/<d> and its /vm/<uuid> go.
    void removeDomain(DomId d) {
        hypervisor.domains.erase(d);
        const std::string vm = "/vm/" + uuidFor(d);
        for (auto it = store.nodes.begin(); it != store.nodes.end();)
            it = it->first.rfind(paths::domain(d), 0) == 0 || it->first.rfind(vm, 0) == 0
                     ? store.nodes.erase(it)
                     : std::next(it);
        store.fireSpecial(paths::kReleaseDomain);
    }
    void crashDomain(DomId d) {
        hypervisor.domains[d].shutdown = true;
        hypervisor.domains[d].shutdownReason = 3; // SHUTDOWN_crash
        store.fireSpecial(paths::kReleaseDomain);
        settle();
        timers.advance(std::chrono::milliseconds(1000)); // the stub-death grace
    }

    // Delivers watch events and zero-delay timers until nothing is left to do.
    void settle() {
        for (int round = 0; round < 1000; ++round) {
            if (!manager)
                store.closeConnection(); // no daemon runs: nobody's watches are set
            if (store.deliver())
                continue;
            bool due = std::any_of(timers.timers.begin(), timers.timers.end(),
                                   [&](const auto& t) { return t.second.first <= timers.current; });
            if (!due)
                return;
            timers.advance(std::chrono::milliseconds(0));
        }
    }

    // Plays one pending xl command the way xl would, then settles.
    bool step(const std::string& verb) {
        auto it = std::find_if(toolstack.pending.begin(), toolstack.pending.end(),
                               [&](const auto& c) { return c.args.front() == verb; });
        if (it == toolstack.pending.end())
            return false;
        std::vector<std::string> args = it->args;
        ToolResult result;
        if (verb == "create") {
            std::string cfg = files[args.back()];
            auto start = cfg.find("name = \"") + 8;
            std::string name = cfg.substr(start, cfg.find('"', start) - start);
            DomId d = nextDomid++;
            makeDomain(d, name, false);
            hypervisor.domains[d].paused = true;
            // libxl's record of the kernel a PV domain boots, dom0's.
            auto kernelAt = cfg.find("kernel = \"");
            if (kernelAt != std::string::npos) {
                kernelAt += 10;
                store.put("/vm/" + uuidFor(d) + "/image/kernel",
                          cfg.substr(kernelAt, cfg.find('"', kernelAt) - kernelAt));
            }
            store.fireSpecial(paths::kIntroduceDomain);
        } else if (verb == "domid") {
            result.exitStatus = 1;
            for (const auto& [d, info] : hypervisor.domains)
                if (store.get(paths::name(d)) == args[1]) {
                    result = ToolResult{0, std::to_string(d) + "\n", ""};
                }
            if (!result.ok())
                result.errors = "Can't get domid of domain name '" + args[1] +
                                "', maybe this domain does not exist.\n";
        } else if (verb == "unpause") {
            DomId s = static_cast<DomId>(std::stoul(args[1]));
            hypervisor.domains[s].paused = false;
            if (stubsReachRunning && hypervisor.targets.count(s))
                store.write(paths::stubDeviceModel(s, hypervisor.targets[s]) + "/state", "running");
        } else if (verb == "destroy") {
            DomId d = static_cast<DomId>(std::stoul(args[1]));
            if (hypervisor.domains.count(d))
                removeDomain(d);
        }
        toolstack.complete(verb, result);
        settle();
        return true;
    }
    // Plays every pending command (and those they cause) to the end.
    void runXl() {
        for (int i = 0; i < 10000 && !toolstack.pending.empty(); ++i)
            step(toolstack.pending.front().args.front());
    }

    GuestView view(const std::string& name) {
        auto g = manager->findGuest(name);
        if (!g)
            throw std::runtime_error("no guest " + name);
        return *g;
    }
    unsigned domainsNamed(const std::string& name) {
        unsigned n = 0;
        for (const auto& [d, info] : hypervisor.domains)
            if (store.get(paths::name(d)) == name)
                ++n;
        return n;
    }
};

} // namespace stubdomd::fakes
