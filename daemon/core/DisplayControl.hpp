// The guests' displays as a component beside the QMP channels (DeviceModelChannel): the
// set-up (DisplayPlan) decided from a guest's configs and stored choice by the rules of
// Display.hpp, the VNC password handed to a new stub domain, where to connect, the VNC-port
// watch of a linked stub (its own state, by guest domid) and the display commands
// (SetDisplay, SetDisplayPassword, GetDisplay, what the toolstack said at attach).
#pragma once

#include "DeviceModelChannel.hpp"
#include "Display.hpp"
#include "DisplaySettings.hpp"
#include "DomainProbe.hpp"
#include "GuestService.hpp"
#include "Registry.hpp"
#include "Store.hpp"
#include "StubSpec.hpp"
#include "config/Settings.hpp"

#include <map>
#include <optional>
#include <string>

namespace stubdomd {

class DisplayControl {
public:
    using Guest = Registry::Guest;

    DisplayControl(const Settings& settings, Store& store, DomainProbe& probe, Registry& registry,
                   DeviceModelChannel& channel, StubSpecSource& specs)
        : settings_(settings), store_(store), probe_(probe), registry_(registry), channel_(channel),
          specs_(specs) {}
    DisplayControl(const DisplayControl&) = delete;
    DisplayControl& operator=(const DisplayControl&) = delete;

    // Where the guests' own configs, stored display choices and the X display come from;
    // it must outlive this. Without it, display set-ups come from the stub configs alone.
    void setSources(DisplaySources& sources) { sources_ = &sources; }

    // Decides the guest's display set-up from its configs and stored choice. Throws
    // Error(InvalidDisplay) or Error(InvalidConfig) (an unreadable guest config).
    void resolve(Guest& guest);
    // resolve() for a guest whose configs are (re)read: false, and the guest failed with
    // the reason, when the set-up breaks a rule; Reload and Start try again.
    bool applyRules(Guest& guest);
    // The stub domain is linked (or adopted): hand it the password before it unpauses
    // (`writePassword`), say where to connect, and watch for the port a vfb backend picks.
    void show(Guest& guest, DomId stub, bool writePassword);
    // Teardown step: where to connect and the VNC-port watch go with the stub domain.
    void forget(Guest& guest, GuestView& view);
    // The guest is gone. Its VNC-port watch is left to xenstore (removing it would cost a
    // request per gone guest); its events find no guest and do nothing.
    void dropGone(DomId guest) { vncWatches_.erase(guest); }

    // SetDisplayPassword's stored password, else the one the configs set.
    std::optional<std::string> password(const Guest& guest) const;
    // Whether a Linux stub domain's qemu starts with VNC password auth.
    bool startsWithVncPassword(const Guest& guest) const;
    // A Linux stub domain's qemu serving VNC now runs: give it the password over QMP.
    void handPasswordToMonitor(Guest& guest);

    // The commands of GuestService, on a guest already found.
    void setChoice(Guest& guest, const DisplayChoice& choice);
    void setPassword(Guest& guest, const std::string& password);
    void setPassword(Guest& guest, const std::string& password, Completion done);
    void get(Guest& guest, GuestService::DisplayDone done);
    // What the toolstack told stubdom-dm at attach, which beats the guest's config file.
    void takeToolstackSay(Guest& guest, const GuestDisplayConfig& toolstack);

private:
    struct VncWatch {
        DomId stub = 0;
        Store::WatchId watch = 0;
    };
    void readVncPort(Guest& guest);

    const Settings& settings_;
    Store& store_;
    DomainProbe& probe_;
    Registry& registry_;
    DeviceModelChannel& channel_;
    StubSpecSource& specs_;
    DisplaySources* sources_ = nullptr;
    std::map<DomId, VncWatch> vncWatches_; // by guest domid, while console/vnc-port is watched
};

} // namespace stubdomd
