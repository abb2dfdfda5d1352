// The engine's components wired to the fakes without the GuestManager facade: discovery,
// the spawn pipeline, the teardown and the commands over the real registry, display control, QMP
// channels and console follower, so each component's unit test drives it alone.
#pragma once

#include "Fakes.hpp"
#include "core/Commands.hpp"
#include "core/Discovery.hpp"
#include "core/PauseControl.hpp"
#include "core/SpawnPipeline.hpp"
#include "core/Teardown.hpp"
#include "core/XenPaths.hpp"

#include <catch2/catch.hpp>
#include <memory>

namespace stubdomd::fakes {

struct Components {
    FakeStore store;
    FakeHypervisor hypervisor;
    FakeToolstack toolstack;
    FakeTimers timers;
    FakeSpecs specs;
    Settings settings;
    std::map<std::string, std::string> files;
    CoreDeps deps{store,
                  hypervisor,
                  toolstack,
                  timers,
                  specs,
                  [this](const std::string& p, const std::string& c) { files[p] = c; },
                  [](long) { return std::string(); },
                  {}};
    DomainProbe probe{store};
    StubLinker linker{store, hypervisor};
    Registry registry;
    DeviceModelChannel channel{store};
    DisplayControl display{settings, store, probe, registry, channel, specs};
    ConsoleFollower consoles{store, "/var/log/xen"};
    PauseControl pauses{hypervisor};
    Waiters waiters;
    std::vector<DomId> released; // guests whose stub the teardown step released
    unsigned rescans = 0;        // asked for by the pipeline (a PV probe held back)
    unsigned rescansNow = 0;     // asked for by the teardown (before judging a stub's death)
    std::unique_ptr<SpawnPipeline> pipeline;
    std::unique_ptr<Teardown> teardown;
    // Not started: a test sets up its domains first, then calls discovery->start().
    std::unique_ptr<Discovery> discovery;
    std::unique_ptr<Commands> commands;

    explicit Components(unsigned maxParallel = 4) {
        settings.runtimeDir = "/run/stubdomd";
        settings.maxParallelSpawns = maxParallel;
        pipeline = std::make_unique<SpawnPipeline>(
            settings, deps, probe, linker, registry, display, channel, consoles, waiters,
            SpawnPipeline::Hooks{[this](Registry::Guest& g, GuestView& v) {
                                     released.push_back(g.view.domid);
                                     teardown->releaseStub(g, v);
                                 },
                                 [this] {
                                     ++rescans;
                                 }});
        teardown = std::make_unique<Teardown>(settings, timers, hypervisor, registry, *pipeline,
                                              linker, display, channel, consoles, pauses, waiters,
                                              Teardown::Hooks{[this] {
                                                  ++rescansNow;
                                              }});
        discovery = std::make_unique<Discovery>(settings, deps, probe, linker, registry, *pipeline,
                                                *teardown, display, consoles);
        commands =
            std::make_unique<Commands>(settings, deps, registry, linker, *discovery, *pipeline,
                                       *teardown, display, consoles, pauses, waiters);
    }

    static std::string uuidFor(DomId d) {
        char buf[40];
        std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012u", d);
        return buf;
    }
    // A domain as the toolstack makes it: the hypervisor's entry and dom0-owned nodes.
    void domain(DomId d, const std::string& name, bool hvm) {
        hypervisor.domains[d] = DomainInfo{d, hvm, false, false, false, 262144};
        store.put(paths::domain(d), "");
        store.put(paths::name(d), name);
        store.put(paths::vm(d), "/vm/" + uuidFor(d));
        store.put("/vm/" + uuidFor(d) + "/name", name);
    }
    void withSpec(const std::string& name) {
        StubSpec spec;
        spec.sourceFile = "/etc/xen/stubdom-" + name;
        spec.kernel = "/usr/lib/xen/boot/ioemu-stubdom.gz";
        specs.specs[name] = spec;
    }

    Registry::Guest& guest(DomId domid, const std::string& name) {
        auto g = std::make_unique<Registry::Guest>();
        g->view.domid = domid;
        g->view.name = name;
        g->view.uuid = name + "-uuid";
        StubSpec spec;
        spec.sourceFile = "/etc/xen/stubdom-" + name;
        spec.kernel = "/usr/lib/xen/boot/ioemu-stubdom.gz";
        g->spec = spec;
        auto& added = registry.add(domid, std::move(g));
        registry.transition(added, GuestState::Stopped, "");
        registry.announce(added);
        return added;
    }
    GuestState state(DomId domid) { return registry.byDomid(domid)->view.state; }
    // xl's answers: the create, then `xl domid` naming `stub`.
    void created(DomId stub) {
        REQUIRE(toolstack.complete("create"));
        REQUIRE(toolstack.complete("domid", ToolResult{0, std::to_string(stub) + "\n", ""}));
    }
    // The guest's stub `stub` says running.
    void running(DomId guest, DomId stub) {
        store.write(paths::stubDeviceModel(stub, guest) + "/state", "running");
        deliver();
    }
    void deliver() {
        while (store.deliver()) {
        }
    }
    // The events delivered and the rescan they schedule run (a zero-delay timer).
    void settle() {
        deliver();
        timers.advance(std::chrono::milliseconds(0));
        deliver();
    }
};

} // namespace stubdomd::fakes
