// DisplaySources on the real host: the guests' own configs in the xen config dir, the
// choices SetDisplay stored in <state dir>/display/<uuid>.json, and the daemon's X display.
#pragma once

#include "core/DisplaySettings.hpp"
#include "xen/GuestConfigReader.hpp"

#include <string>

namespace stubdomd {

class DisplayHost final : public DisplaySources {
public:
    DisplayHost(const std::string& xenConfigDir, std::string stateDir);

    std::optional<GuestDisplayConfig> guestConfig(const std::string& guestName) override;
    StoredDisplay stored(const std::string& uuid) override;
    void store(const std::string& uuid, const StoredDisplay& display) override;
    DisplayEnvironment environment() override;

private:
    std::string fileFor(const std::string& uuid) const;

    GuestConfigReader configs_;
    std::string dir_; // <state dir>/display
};

} // namespace stubdomd
