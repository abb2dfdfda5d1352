// In-memory stand-ins for the core's interfaces, so the engine's state machine runs
// in a unit test: a store with permissions and watches, a domain table, a toolstack
// whose commands the test completes one by one, and a clock the test moves.
#pragma once

#include "core/Errors.hpp"
#include "core/GuestService.hpp"
#include "core/Hypervisor.hpp"
#include "core/SpawnGate.hpp"
#include "core/Store.hpp"
#include "core/StubSpec.hpp"
#include "core/Timers.hpp"
#include "core/Toolstack.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace stubdomd::fakes {

class FakeStore : public Store {
public:
    struct Node {
        std::string value;
        std::vector<Permission> perms{{0, Access::None}};
    };
    std::map<std::string, Node> nodes;
    struct Watch {
        std::string path;
        WatchCallback callback;
    };
    std::map<WatchId, Watch> watches;
    std::vector<std::pair<std::string, WatchId>> fired; // events to deliver
    WatchId nextWatch = 1;
    std::map<DomId, DomId> targets;
    unsigned requests = 0;

    std::optional<std::string> read(const std::string& path) override {
        ++requests;
        auto it = nodes.find(path);
        if (it == nodes.end())
            return std::nullopt;
        return it->second.value;
    }
    void write(const std::string& path, const std::string& value) override {
        ++requests;
        ensureParents(path);
        nodes[path].value = value;
        fire(path);
    }
    void mkdir(const std::string& path) override {
        ++requests;
        ensureParents(path);
        nodes[path];
        fire(path);
    }
    void remove(const std::string& path) override {
        ++requests;
        for (auto it = nodes.begin(); it != nodes.end();) {
            if (it->first == path || it->first.rfind(path + "/", 0) == 0) {
                fire(it->first);
                it = nodes.erase(it);
            } else {
                ++it;
            }
        }
    }
    std::vector<std::string> list(const std::string& path) override {
        ++requests;
        std::vector<std::string> children;
        for (const auto& [p, n] : nodes)
            if (p.rfind(path + "/", 0) == 0 && p.find('/', path.size() + 1) == std::string::npos)
                children.push_back(p.substr(path.size() + 1));
        return children;
    }
    std::optional<std::vector<Permission>> permissions(const std::string& path) override {
        ++requests;
        auto it = nodes.find(path);
        if (it == nodes.end())
            return std::nullopt;
        return it->second.perms;
    }
    void setPermissions(const std::string& path, const std::vector<Permission>& perms) override {
        ++requests;
        auto it = nodes.find(path);
        if (it == nodes.end())
            throw Error(ErrorCode::Internal, "setPermissions on missing " + path);
        it->second.perms = perms;
    }
    void setTarget(DomId stub, DomId guest) override {
        ++requests;
        targets[stub] = guest;
    }
    // Every domain counts as introduced unless a test holds it back here.
    std::set<DomId> notIntroduced;
    bool introduced(DomId domid) override {
        ++requests;
        return notIntroduced.count(domid) == 0;
    }
    WatchId watch(const std::string& path, WatchCallback callback) override {
        ++requests;
        const WatchId id = nextWatch++;
        watches[id] = Watch{path, std::move(callback)};
        fired.push_back({path, id}); // xenstore fires once on registration
        return id;
    }
    void unwatch(WatchId id) override {
        if (watches.erase(id))
            ++requests;
    }

    // Test helpers (not counted as requests)
    void put(const std::string& path, const std::string& value, DomId owner = 0) {
        ensureParents(path);
        nodes[path] = Node{value, {{owner, Access::None}}};
        fire(path);
    }
    bool has(const std::string& path) const { return nodes.count(path) != 0; }
    std::string get(const std::string& path) const {
        auto it = nodes.find(path);
        return it == nodes.end() ? "<missing>" : it->second.value;
    }
    std::vector<Permission> permsOf(const std::string& path) const {
        auto it = nodes.find(path);
        return it == nodes.end() ? std::vector<Permission>{} : it->second.perms;
    }
    void fireSpecial(const std::string& special) { fire(special); }
    // The daemon's connection closed: xenstored forgets its watches and queued events.
    void closeConnection() {
        watches.clear();
        fired.clear();
    }
    // How many watches are set on exactly `path`.
    std::size_t watching(const std::string& path) const {
        return std::count_if(watches.begin(), watches.end(),
                             [&](const auto& w) { return w.second.path == path; });
    }
    // Hands each queued event to its watch's callback, as the adapter does from the loop;
    // an event whose watch is gone is dropped. False when there was none.
    bool deliver() {
        if (fired.empty())
            return false;
        auto events = std::move(fired);
        fired.clear();
        for (const auto& [path, id] : events) {
            auto it = watches.find(id);
            if (it == watches.end())
                continue;
            WatchCallback callback = it->second.callback; // it may unwatch itself
            callback(path);
        }
        return true;
    }

private:
    void ensureParents(const std::string& path) {
        for (auto pos = path.find('/', 1); pos != std::string::npos; pos = path.find('/', pos + 1))
            nodes.emplace(path.substr(0, pos), Node{});
    }
    void fire(const std::string& path) {
        for (const auto& [id, watch] : watches)
            if (path == watch.path || path.rfind(watch.path + "/", 0) == 0)
                fired.push_back({path, id});
    }
};

class FakeHypervisor : public Hypervisor {
public:
    std::map<DomId, DomainInfo> domains;
    std::map<DomId, DomId> targets;
    std::vector<DomId> crashed;
    std::uint64_t freeKiB = 16ull * 1024 * 1024;
    unsigned listCalls = 0;

    std::vector<DomainInfo> listDomains() override {
        ++listCalls;
        std::vector<DomainInfo> list;
        for (const auto& [id, info] : domains)
            list.push_back(info);
        return list;
    }
    void setTarget(DomId stub, DomId guest) override { targets[stub] = guest; }
    void crash(DomId domid) override {
        crashed.push_back(domid);
        domains[domid].shutdown = true;
    }
    std::uint64_t freeMemoryKiB() override { return freeKiB; }
    // Every pause and unpause in order ("pause 5", "unpause 6"); a domid in `refuse`
    // fails the way Xen does for a domain that is gone.
    std::vector<std::string> pauseCalls;
    std::set<DomId> refuse;
    void pause(DomId domid) override { setPaused(domid, true); }
    void unpause(DomId domid) override { setPaused(domid, false); }
    void setPaused(DomId domid, bool paused) {
        pauseCalls.push_back((paused ? "pause " : "unpause ") + std::to_string(domid));
        if (refuse.count(domid) || !domains.count(domid))
            throw Error(ErrorCode::Internal,
                        "xc_domain_pause " + std::to_string(domid) + ": No such process");
        domains[domid].paused = paused;
    }
};

// Records each command; the test completes them (or lets autoComplete play xl).
class FakeToolstack : public Toolstack {
public:
    struct Call {
        std::vector<std::string> args;
        Done done;
    };
    std::deque<Call> pending;
    std::vector<std::vector<std::string>> history;
    unsigned maxConcurrent = 0;

    void create(const std::string& cfg, bool paused, Done done) override {
        add(paused ? std::vector<std::string>{"create", "-p", cfg}
                   : std::vector<std::string>{"create", cfg},
            std::move(done));
    }
    void domid(const std::string& name, Done done) override {
        add({"domid", name}, std::move(done));
    }
    void unpause(DomId d, Done done) override {
        add({"unpause", std::to_string(d)}, std::move(done));
    }
    void destroy(DomId d, Done done) override {
        add({"destroy", std::to_string(d)}, std::move(done));
    }
    unsigned running() const override { return static_cast<unsigned>(pending.size()); }

    // Completes the oldest command whose first word is `verb`.
    bool complete(const std::string& verb, ToolResult result = {}) {
        auto it = std::find_if(pending.begin(), pending.end(),
                               [&](const Call& c) { return c.args.front() == verb; });
        if (it == pending.end())
            return false;
        Done done = std::move(it->done);
        pending.erase(it);
        done(result);
        return true;
    }
    unsigned count(const std::string& verb) const {
        return static_cast<unsigned>(std::count_if(
            pending.begin(), pending.end(), [&](const Call& c) { return c.args.front() == verb; }));
    }
    unsigned historyCount(const std::string& verb) const {
        return static_cast<unsigned>(std::count_if(
            history.begin(), history.end(), [&](const auto& a) { return a.front() == verb; }));
    }

private:
    void add(std::vector<std::string> args, Done done) {
        history.push_back(args);
        pending.push_back({std::move(args), std::move(done)});
        maxConcurrent = std::max<unsigned>(maxConcurrent, static_cast<unsigned>(pending.size()));
    }
};

class FakeTimers : public Timers {
public:
    Clock::time_point current{};
    std::map<TimerId, std::pair<Clock::time_point, std::function<void()>>> timers;
    TimerId next = 1;

    Clock::time_point now() const override { return current; }
    TimerId after(std::chrono::milliseconds delay, std::function<void()> fire) override {
        timers[next] = {current + delay, std::move(fire)};
        return next++;
    }
    void cancel(TimerId id) override { timers.erase(id); }
    // Moves the clock and fires what is due, in deadline order.
    void advance(std::chrono::milliseconds by) {
        current += by;
        for (;;) {
            auto due =
                std::min_element(timers.begin(), timers.end(), [](const auto& a, const auto& b) {
                    return a.second.first < b.second.first;
                });
            if (due == timers.end() || due->second.first > current)
                return;
            auto fire = std::move(due->second.second);
            timers.erase(due);
            fire();
        }
    }
};

class FakeSpecs : public StubSpecSource {
public:
    std::map<std::string, StubSpec> specs;
    std::map<std::string, std::string> broken; // name → error text
    std::optional<StubSpec> load(const std::string& name) override {
        if (auto it = broken.find(name); it != broken.end())
            throw Error(ErrorCode::InvalidConfig, it->second);
        auto it = specs.find(name);
        if (it == specs.end())
            return std::nullopt;
        return it->second;
    }
};

// Records what the D-Bus layer would see.
class RecordingObserver : public GuestObserver {
public:
    std::vector<std::string> events;
    std::vector<std::string> states; // "name:state" each time State changes
    void guestAdded(const GuestView& g) override {
        events.push_back("added " + g.name);
        states.push_back(g.name + ":" + std::string(toString(g.state)));
    }
    void guestChanged(const GuestView& g, std::uint32_t fields) override {
        if (fields & FieldState)
            states.push_back(g.name + ":" + std::string(toString(g.state)));
    }
    void guestRemoved(const GuestView& g) override { events.push_back("removed " + g.name); }
};

// A spawn gate the test opens and closes; set() tells the listener, as the supervisor does.
class FakeGate : public SpawnGate {
public:
    std::string why;
    std::string warning;
    std::function<void()> listener;

    std::string closedBecause() const override { return why; }
    std::string caveat() const override { return warning; }
    void onChange(std::function<void()> l) override { listener = std::move(l); }

    void set(const std::string& reason) {
        why = reason;
        if (listener)
            listener();
    }
};

} // namespace stubdomd::fakes
