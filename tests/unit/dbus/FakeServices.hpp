// In-memory GuestService and HelperService for the D-Bus server test: commands are
// held until the test completes them, changes are pushed to the observers on demand.
#pragma once

#include "core/GuestService.hpp"
#include "core/HelperService.hpp"

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace stubdomd::test {

// Completions a test holds back, per key, and releases oldest first: how the fakes
// answer slow calls (Start, helper Restart …) when the test says so.
class HeldCompletions {
public:
    void hold(const std::string& key, Completion done) { held_[key].push_back(std::move(done)); }
    // False when nothing is held for the key.
    bool complete(const std::string& key, const std::optional<Error>& error) {
        auto it = held_.find(key);
        if (it == held_.end() || it->second.empty())
            return false;
        Completion done = std::move(it->second.front());
        it->second.pop_front();
        done(error);
        return true;
    }

private:
    std::map<std::string, std::deque<Completion>> held_;
};

class FakeGuestService final : public GuestService {
public:
    // Something the test can observe through the server's stdout.
    std::function<void(const std::string& line)> report;

    std::vector<GuestView> guests() const override;
    std::optional<GuestView> findGuest(const std::string& nameOrUuid) const override;
    std::optional<GuestView> findGuestByDomid(DomId domid) const override;
    void start(const std::string& uuid, Completion done) override;
    void stop(const std::string& uuid, Completion done) override;
    void restart(const std::string& uuid, Completion done) override;
    void attach(DomId domid, Completion done) override;
    void reload() override;
    void addObserver(GuestObserver& observer) override { observers_.push_back(&observer); }
    void removeObserver(GuestObserver& observer) override;

    // Known before the server exists (exported without an announcement).
    void preload(const GuestView& guest) { guests_[guest.uuid] = guest; }
    // The test's levers.
    void add(const GuestView& guest);
    void change(const GuestView& guest);
    void remove(const std::string& uuid);
    // Completes the oldest held command of `key` (a uuid, or "attach:<domid>").
    bool complete(const std::string& key, const std::optional<Error>& error);
    const GuestView* byUuid(const std::string& uuid) const;

private:
    const GuestView& known(const std::string& uuid) const;
    void hold(const std::string& what, const std::string& key, Completion done);

    std::map<std::string, GuestView> guests_;
    HeldCompletions held_;
    std::vector<GuestObserver*> observers_;
};

class FakeHelperService final : public HelperService {
public:
    std::function<void(const std::string& line)> report;

    std::vector<HelperView> helpers() const override;
    void start(const std::string& name, Completion done) override;
    void stop(const std::string& name, Completion done) override;
    void restart(const std::string& name, Completion done) override;
    void addObserver(HelperObserver& observer) override { observers_.push_back(&observer); }
    void removeObserver(HelperObserver& observer) override;

    void preload(const HelperView& helper) { helpers_[helper.name] = helper; }
    void change(const HelperView& helper);
    bool complete(const std::string& name, const std::optional<Error>& error);
    const HelperView* byName(const std::string& name) const;

private:
    void hold(const std::string& what, const std::string& name, Completion done);

    std::map<std::string, HelperView> helpers_;
    HeldCompletions held_;
    std::vector<HelperObserver*> observers_;
};

} // namespace stubdomd::test
