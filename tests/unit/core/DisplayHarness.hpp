// The engine on the fakes with display control: display sources with configs and stored
// choices in maps, and optionally a device-model monitor.
#pragma once

#include "EngineHarness.hpp"
#include "core/DisplaySettings.hpp"

#include <map>
#include <optional>
#include <string>

namespace stubdomd::fakes {

class FakeDisplaySources : public DisplaySources {
public:
    std::map<std::string, GuestDisplayConfig> configs;
    std::map<std::string, StoredDisplay> saved;
    DisplayEnvironment env;
    std::optional<GuestDisplayConfig> guestConfig(const std::string& name) override {
        auto it = configs.find(name);
        return it == configs.end() ? std::nullopt : std::optional<GuestDisplayConfig>(it->second);
    }
    StoredDisplay stored(const std::string& uuid) override {
        auto it = saved.find(uuid);
        return it == saved.end() ? StoredDisplay{} : it->second;
    }
    void store(const std::string& uuid, const StoredDisplay& d) override { saved[uuid] = d; }
    DisplayEnvironment environment() override { return env; }
};

struct DisplayHarness : Harness {
    FakeDisplaySources sources;
    DeviceModelMonitor* monitor = nullptr; // set before start()
    void start() {
        startManagerWith([this](GuestManager& m) {
            m.setDisplaySources(sources);
            if (monitor)
                m.setDeviceModelMonitor(*monitor);
        });
    }
    std::string config(const std::string& name) {
        return files.at("/run/stubdomd/" + name + "-dm.cfg");
    }
};

} // namespace stubdomd::fakes
