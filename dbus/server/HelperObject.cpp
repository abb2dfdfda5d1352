#include "dbus/server/HelperObject.hpp"

#include "dbus/Names.hpp"
#include "dbus/server/ChangedProperties.hpp"
#include "dbus/server/ObjectPaths.hpp"

#include <array>
#include <utility>

namespace stubdomd::dbus {

namespace {

constexpr std::array<std::pair<HelperField, const char*>, 5> kProperties{{
    {HelperFieldName, "Name"},
    {HelperFieldState, "State"},
    {HelperFieldMainPid, "MainPID"},
    {HelperFieldRestarts, "Restarts"},
    {HelperFieldLastExit, "LastExit"},
}};

} // namespace

HelperObject::HelperObject(sdbus::IConnection& connection, ServerContext& context,
                           const HelperView& view)
    : AdaptorInterfaces(connection, helperPath(view.name)), context_(context), view_(view) {
    registerAdaptor();
}

HelperObject::~HelperObject() {
    unregisterAdaptor();
}

void HelperObject::update(const HelperView& view, std::uint32_t fields) {
    view_ = view;
    std::vector<std::string> names = changedProperties(kProperties, fields);
    if (!names.empty())
        emitPropertiesChangedSignal(kHelperInterface, names);
}

void HelperObject::runCommand(sdbus::Result<>&& result, Command command) {
    AsyncReply<> reply(context_.replies, std::move(result));
    try {
        authorizeThen(context_, getObject(), kActionManage, reply,
                      [service = context_.helpers, name = view_.name, reply, command] {
                          (service->*command)(name, reply.completion());
                      });
    } catch (...) {
        reply.fail(currentExceptionAsDbusError());
    }
}

void HelperObject::Start(sdbus::Result<>&& result) {
    runCommand(std::move(result), &HelperService::start);
}
void HelperObject::Stop(sdbus::Result<>&& result) {
    runCommand(std::move(result), &HelperService::stop);
}
void HelperObject::Restart(sdbus::Result<>&& result) {
    runCommand(std::move(result), &HelperService::restart);
}

std::string HelperObject::Name() {
    return view_.name;
}
std::string HelperObject::State() {
    return std::string(toString(view_.state));
}
uint32_t HelperObject::MainPID() {
    return view_.mainPid;
}
uint32_t HelperObject::Restarts() {
    return view_.restarts;
}
std::string HelperObject::LastExit() {
    return view_.lastExit;
}

} // namespace stubdomd::dbus
