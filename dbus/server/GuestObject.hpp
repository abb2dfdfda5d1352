// One guest's object, /org/xen/Stubdom/guest/<uuid>: org.xen.Stubdom.Guest over a
// cached GuestView, kept current by DbusServer from the core's notifications.
//
// No registration per guest: every guest is served by one fallback vtable on the guest
// path prefix (DbusServer), which finds the GuestObject from the path at call time.
// Registering each object (sdbus-c++) cost ~10 KiB per guest (issue 18).
#pragma once

#include "core/GuestView.hpp"
#include "dbus/server/ServerContext.hpp"

#include <systemd/sd-bus.h>

#include <cstdint>
#include <string>

namespace stubdomd::dbus {

class GuestObject final {
public:
    GuestObject(ServerContext& context, const GuestView& view) : context_(context), view_(view) {}

    // org.xen.Stubdom.Guest's members, for sd_bus_add_fallback_vtable; the userdata is
    // the GuestObject of the path called.
    static const sd_bus_vtable* vtable();

    const GuestView& view() const { return view_; }
    std::string path() const;
    // Takes the new view and sends one PropertiesChanged with exactly `fields`.
    void update(sd_bus* bus, const GuestView& view, std::uint32_t fields);
    void emitStubFailed(sd_bus* bus, const std::string& cause, const std::string& message);
    void emitDisplayClientChanged(sd_bus* bus, bool connected, unsigned clients);

    // Method handlers (VtableGlue.hpp's methodOf): each answers or keeps its call.
    int start(sd_bus_message* call);
    int stop(sd_bus_message* call);
    int restart(sd_bus_message* call);
    int pause(sd_bus_message* call);
    int resume(sd_bus_message* call);
    int getDisplay(sd_bus_message* call);
    int setDisplay(sd_bus_message* call);
    int setDisplayPassword(sd_bus_message* call);
    int getConsoleLog(sd_bus_message* call);
    int openConsoleLog(sd_bus_message* call);
    int openDisplay(sd_bus_message* call);
    int openConsole(sd_bus_message* call);
    int watchResources(sd_bus_message* call);

    // Property getters: they read the cached view.
    std::string name() const { return view_.name; }
    std::string uuid() const { return view_.uuid; }
    std::uint32_t domId() const { return view_.domid; }
    std::uint32_t stubDomId() const { return view_.stubDomid; }
    std::string state() const { return std::string(toString(view_.state)); }
    std::string stateReason() const { return view_.stateReason; }
    std::string flavour() const { return std::string(toString(view_.flavour)); }
    std::string displayMode() const { return std::string(toString(view_.displayMode)); }
    std::string displayAddress() const { return view_.displayAddress; }
    std::int32_t displayPort() const { return view_.displayPort; }
    std::uint32_t restarts() const { return view_.restarts; }
    std::string lastError() const { return view_.lastError; }
    std::uint64_t stubMemoryMiB() const { return view_.stubMemoryMiB; }
    std::uint64_t stubMemoryUsedKiB() const { return view_.stubMemoryUsedKiB; }
    std::uint64_t stubCpuTimeNs() const { return view_.stubCpuTimeNs; }

private:
    using Command = void (GuestService::*)(const std::string&, Completion);
    // `options`: the method takes an a{sv} (which must be empty).
    int runCommand(sd_bus_message* call, const char* method, bool options, Command command);
    using StartCommand = void (GuestService::*)(const std::string&, const StartOptions&,
                                                Completion);
    // Start and Restart: runCommand with their options (Options.hpp's startOptions).
    int runStart(sd_bus_message* call, const char* method, StartCommand command);

    ServerContext& context_;
    GuestView view_;
};

} // namespace stubdomd::dbus
