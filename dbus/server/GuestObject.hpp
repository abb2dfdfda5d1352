// One guest's object, /org/xen/Stubdom/guest/<uuid>: org.xen.Stubdom.Guest over a
// cached GuestView, kept current by DbusServer from the core's notifications.
#pragma once

#include "core/GuestView.hpp"
#include "dbus/org.xen.Stubdom.Guest_adaptor.h"
#include "dbus/server/ServerContext.hpp"

#include <sdbus-c++/StandardInterfaces.h>

namespace stubdomd::dbus {

class GuestObject final
    : public sdbus::AdaptorInterfaces<org::xen::Stubdom::Guest_adaptor,
                                      sdbus::ManagedObject_adaptor, sdbus::Properties_adaptor> {
public:
    // Exports the object (visible to GetManagedObjects) without announcing it; the
    // caller emits InterfacesAdded once it wants the guest known.
    GuestObject(sdbus::IConnection& connection, ServerContext& context, const GuestView& view);
    ~GuestObject();

    const GuestView& view() const { return view_; }
    // Takes the new view and sends one PropertiesChanged with exactly `fields`.
    void update(const GuestView& view, std::uint32_t fields);

private:
    // org.xen.Stubdom.Guest
    void Start(sdbus::Result<>&& result, std::map<std::string, sdbus::Variant> options) override;
    void Stop(sdbus::Result<>&& result, std::map<std::string, sdbus::Variant> options) override;
    void Restart(sdbus::Result<>&& result, std::map<std::string, sdbus::Variant> options) override;
    void Pause(sdbus::Result<>&& result) override;
    void Resume(sdbus::Result<>&& result) override;
    void GetDisplay(sdbus::Result<std::map<std::string, sdbus::Variant>>&& result) override;
    void SetDisplay(sdbus::Result<>&& result, std::string mode,
                    std::map<std::string, sdbus::Variant> options) override;
    void SetDisplayPassword(sdbus::Result<>&& result, std::string password) override;
    void GetConsoleLog(sdbus::Result<std::vector<std::string>>&& result, uint32_t lines) override;
    void OpenConsoleLog(sdbus::Result<sdbus::UnixFd>&& result) override;
    void OpenDisplay(sdbus::Result<sdbus::UnixFd>&& result,
                     std::map<std::string, sdbus::Variant> options) override;
    void OpenConsole(sdbus::Result<sdbus::UnixFd, std::string>&& result, std::string name,
                     std::map<std::string, sdbus::Variant> options) override;
    sdbus::UnixFd WatchResources() override;

    std::string Name() override;
    std::string UUID() override;
    uint32_t DomId() override;
    uint32_t StubDomId() override;
    std::string State() override;
    std::string StateReason() override;
    std::string Flavour() override;
    std::string DisplayMode() override;
    std::string DisplayAddress() override;
    int32_t DisplayPort() override;
    uint32_t Restarts() override;
    std::string LastError() override;
    uint64_t StubMemoryMiB() override;
    uint64_t StubMemoryUsedKiB() override;
    uint64_t StubCpuTimeNs() override;

    using Command = void (GuestService::*)(const std::string&, Completion);
    // `options` null: the method takes none.
    void runCommand(const char* method, sdbus::Result<>&& result,
                    const std::map<std::string, sdbus::Variant>* options, Command command);
    using StartCommand = void (GuestService::*)(const std::string&, const StartOptions&,
                                                Completion);
    // Start and Restart: runCommand with their options (Options.hpp's startOptions).
    void runStart(const char* method, sdbus::Result<>&& result,
                  const std::map<std::string, sdbus::Variant>& options, StartCommand command);

    ServerContext& context_;
    GuestView view_;
};

} // namespace stubdomd::dbus
