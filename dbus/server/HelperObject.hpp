// One supervised helper's object, /org/xen/Stubdom/helper/<name>:
// org.xen.Stubdom.Helper over a cached HelperView.
#pragma once

#include "core/HelperService.hpp"
#include "dbus/org.xen.Stubdom.Helper_adaptor.h"
#include "dbus/server/ServerContext.hpp"

#include <sdbus-c++/StandardInterfaces.h>

namespace stubdomd::dbus {

class HelperObject final
    : public sdbus::AdaptorInterfaces<org::xen::Stubdom::Helper_adaptor,
                                      sdbus::ManagedObject_adaptor, sdbus::Properties_adaptor> {
public:
    // `context.helpers` must not be null.
    HelperObject(sdbus::IConnection& connection, ServerContext& context, const HelperView& view);
    ~HelperObject();

    const HelperView& view() const { return view_; }
    // Takes the new view and sends one PropertiesChanged with exactly `fields`.
    void update(const HelperView& view, std::uint32_t fields);

private:
    void Start(sdbus::Result<>&& result) override;
    void Stop(sdbus::Result<>&& result) override;
    void Restart(sdbus::Result<>&& result) override;

    std::string Name() override;
    std::string State() override;
    uint32_t MainPID() override;
    uint32_t Restarts() override;
    std::string LastExit() override;

    using Command = void (HelperService::*)(const std::string&, Completion);
    void runCommand(sdbus::Result<>&& result, Command command);

    ServerContext& context_;
    HelperView view_;
};

} // namespace stubdomd::dbus
