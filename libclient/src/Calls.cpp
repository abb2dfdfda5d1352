// Client: connecting and the synchronous calls of the API.
#include "ClientImpl.hpp"

#include <algorithm>

namespace stubdom {

namespace names = stubdomd::dbus;

namespace {

constexpr const char* kPropertiesInterface = "org.freedesktop.DBus.Properties";
constexpr const char* kObjectManagerInterface = "org.freedesktop.DBus.ObjectManager";

std::unique_ptr<sdbus::IConnection> openSystemBus() {
    try {
        // sd_bus_open_system honours DBUS_SYSTEM_BUS_ADDRESS (the tests' private bus).
        return sdbus::createSystemBusConnection();
    } catch (const sdbus::Error& e) {
        throw BusUnavailable(e.getName(), "cannot connect to the system bus: " + e.getMessage());
    }
}

template <typename T> T read(sdbus::MethodReply& reply) {
    T value{};
    reply >> value;
    return value;
}

} // namespace

Client::Impl::Impl(sdbus::IConnection& c)
    : connection(c), manager(sdbus::createProxy(c, names::kBusName, names::kManagerPath)) {}

Client::Impl::Impl(std::unique_ptr<sdbus::IConnection> owned)
    : ownedConnection(std::move(owned)), connection(*ownedConnection),
      manager(sdbus::createProxy(connection, names::kBusName, names::kManagerPath)) {}

std::uint64_t Client::Impl::usec(std::optional<Timeout> t) const {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(t.value_or(timeout)).count());
}

std::string Client::Impl::guestPath(const std::string& nameOrUuid) {
    try {
        auto reply =
            call(names::kManagerPath, names::kManagerInterface, "GetGuest", {}, nameOrUuid);
        return read<sdbus::ObjectPath>(reply);
    } catch (const NoSuchGuest&) {
        throw NoSuchGuest(names::kErrorNoSuchGuest, "no guest named '" + nameOrUuid + "'");
    }
}

std::string Client::Impl::guestPathByDomid(std::uint32_t domid) {
    try {
        auto reply =
            call(names::kManagerPath, names::kManagerInterface, "GetGuestByDomid", {}, domid);
        return read<sdbus::ObjectPath>(reply);
    } catch (const NoSuchGuest&) {
        throw NoSuchGuest(names::kErrorNoSuchGuest, "no guest with domid " + std::to_string(domid));
    }
}

std::map<std::string, detail::InterfacesAndProperties> Client::Impl::managedObjects() {
    auto reply = call(names::kManagerPath, kObjectManagerInterface, "GetManagedObjects", {});
    auto objects = read<std::map<sdbus::ObjectPath, detail::InterfacesAndProperties>>(reply);
    return {objects.begin(), objects.end()};
}

HelperInfo Client::Impl::helper(const std::string& name) {
    for (const auto& [path, interfaces] : managedObjects()) {
        auto it = interfaces.find(names::kHelperInterface);
        if (it != interfaces.end()) {
            auto helper = detail::helperFromProperties(path, it->second);
            if (helper.name == name) {
                return helper;
            }
        }
    }
    throw NoSuchHelper(names::kErrorInvalidArgs, "no helper named '" + name + "'");
}

Client::Client() : impl_(std::make_unique<Impl>(openSystemBus())) {}

Client::Client(sdbus::IConnection& connection) : impl_(std::make_unique<Impl>(connection)) {}

// Impl's members are declared so that proxies and match slots go before the
// connection they live on.
Client::~Client() = default;

void Client::setTimeout(Timeout timeout) {
    impl_->timeout = timeout;
}
Timeout Client::timeout() const {
    return impl_->timeout;
}

bool Client::serviceRunning() {
    try {
        auto bus =
            sdbus::createProxy(impl_->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus");
        auto message = bus->createMethodCall("org.freedesktop.DBus", "NameHasOwner");
        message << std::string(names::kBusName);
        auto reply = bus->callMethod(message, impl_->usec({}));
        return read<bool>(reply);
    } catch (const sdbus::Error& e) {
        detail::throwFromDbus(e);
    }
}

template <typename T> T Client::Impl::managerProperty(const char* name) {
    auto reply = call(names::kManagerPath, kPropertiesInterface, "Get", {},
                      std::string(names::kManagerInterface), std::string(name));
    auto value = read<sdbus::Variant>(reply);
    if (!value.containsValueOfType<T>()) {
        throw Error(names::kErrorFailed, std::string("stubdomd's ") + name +
                                             " property has the wrong type " +
                                             value.peekValueType());
    }
    return value.get<T>();
}

std::string Client::version() {
    return impl_->managerProperty<std::string>("Version");
}
std::string Client::xenVersion() {
    return impl_->managerProperty<std::string>("XenVersion");
}
std::vector<std::string> Client::features() {
    return impl_->managerProperty<std::vector<std::string>>("Features");
}
std::string Client::toolstack() {
    return impl_->managerProperty<std::string>("Toolstack");
}

std::vector<GuestInfo> Client::listGuests() {
    std::vector<GuestInfo> guests;
    for (const auto& [path, interfaces] : impl_->managedObjects()) {
        if (auto it = interfaces.find(names::kGuestInterface); it != interfaces.end()) {
            guests.push_back(detail::guestFromProperties(path, it->second));
        }
    }
    std::sort(guests.begin(), guests.end(), [](const GuestInfo& a, const GuestInfo& b) {
        return std::tie(a.domid, a.name) < std::tie(b.domid, b.name);
    });
    return guests;
}

GuestInfo Client::guestAtPath(const std::string& path) {
    try {
        auto reply = impl_->call(path, kPropertiesInterface, "GetAll", {},
                                 std::string(names::kGuestInterface));
        return detail::guestFromProperties(path, read<detail::Properties>(reply));
    } catch (const Error& e) {
        if (e.name() == "org.freedesktop.DBus.Error.UnknownObject" ||
            e.name() == "org.freedesktop.DBus.Error.UnknownInterface") {
            throw NoSuchGuest(names::kErrorNoSuchGuest, "the guest at " + path + " is gone");
        }
        throw;
    }
}

GuestInfo Client::guest(const std::string& nameOrUuid) {
    return guestAtPath(impl_->guestPath(nameOrUuid));
}

GuestInfo Client::guestByDomid(std::uint32_t domid) {
    return guestAtPath(impl_->guestPathByDomid(domid));
}

namespace {
const std::map<std::string, sdbus::Variant> kNoOptions;
}

void Client::start(const std::string& nameOrUuid, std::optional<Timeout> timeout) {
    impl_->callGuest(impl_->guestPath(nameOrUuid), "Start", timeout, kNoOptions);
}

namespace {
std::map<std::string, sdbus::Variant> startOptions(const StartOptions& options) {
    std::map<std::string, sdbus::Variant> dict;
    if (options.stubMemory)
        dict["stub-memory"] = sdbus::Variant(*options.stubMemory);
    return dict;
}
} // namespace

void Client::start(const std::string& nameOrUuid, const StartOptions& options,
                   std::optional<Timeout> timeout) {
    impl_->callGuest(impl_->guestPath(nameOrUuid), "Start", timeout, startOptions(options));
}

void Client::restart(const std::string& nameOrUuid, const StartOptions& options,
                     std::optional<Timeout> timeout) {
    impl_->callGuest(impl_->guestPath(nameOrUuid), "Restart", timeout, startOptions(options));
}

void Client::stop(const std::string& nameOrUuid, std::optional<Timeout> timeout) {
    stopAtPath(impl_->guestPath(nameOrUuid), timeout);
}

void Client::stopAtPath(const std::string& path, std::optional<Timeout> timeout) {
    impl_->callGuest(path, "Stop", timeout, kNoOptions);
}

void Client::restart(const std::string& nameOrUuid, std::optional<Timeout> timeout) {
    impl_->callGuest(impl_->guestPath(nameOrUuid), "Restart", timeout, kNoOptions);
}

void Client::pause(const std::string& nameOrUuid, std::optional<Timeout> timeout) {
    impl_->callGuest(impl_->guestPath(nameOrUuid), "Pause", timeout);
}

void Client::resume(const std::string& nameOrUuid, std::optional<Timeout> timeout) {
    impl_->callGuest(impl_->guestPath(nameOrUuid), "Resume", timeout);
}

namespace {

using Options = detail::Properties;
using detail::take;

Options toOptions(const AttachOptions& o) {
    Options options;
    detail::putIfSet(options, "vnc", o.vnc);
    detail::putIfSet(options, "vnclisten", o.vnclisten);
    detail::putIfSet(options, "vncdisplay", o.vncdisplay);
    detail::putIfSet(options, "vncunused", o.vncunused);
    detail::putIfSet(options, "sdl", o.sdl);
    detail::putIfSet(options, "keymap", o.keymap);
    detail::putIfSet(options, "videoram", o.videoram);
    return options;
}

Options toOptions(const DisplayOptions& o) {
    Options options;
    detail::putIfSet(options, "address", o.address);
    detail::putIfSet(options, "port", o.port);
    detail::putIfSet(options, "keymap", o.keymap);
    return options;
}

} // namespace

GuestInfo Client::attach(std::uint32_t domid, std::optional<Timeout> timeout) {
    return attach(domid, AttachOptions{}, timeout);
}

GuestInfo Client::attach(std::uint32_t domid, const AttachOptions& options,
                         std::optional<Timeout> timeout) {
    auto reply = impl_->call(names::kManagerPath, names::kManagerInterface, "Attach", timeout,
                             domid, toOptions(options));
    return guestAtPath(read<sdbus::ObjectPath>(reply));
}

void Client::attachAsync(std::uint32_t domid, AttachDone done, std::optional<Timeout> timeout) {
    attachAsync(domid, AttachOptions{}, std::move(done), timeout);
}

void Client::attachAsync(std::uint32_t domid, const AttachOptions& options, AttachDone done,
                         std::optional<Timeout> timeout) {
    try {
        auto message = impl_->manager->createMethodCall(names::kManagerInterface, "Attach");
        message << domid << toOptions(options);
        auto* impl = impl_.get();
        // The reply arrives inside processPendingRequest(); only queue it there.
        impl_->manager->callMethod(
            message,
            [impl, done = std::move(done)](sdbus::MethodReply& reply, const sdbus::Error* error) {
                Event event{Event::Kind::AttachDone, {}, {}, {}, done, nullptr};
                try {
                    if (error != nullptr) {
                        detail::throwFromDbus(*error);
                    }
                    event.path = read<sdbus::ObjectPath>(reply);
                } catch (...) {
                    event.error = std::current_exception();
                }
                impl->queue.push_back(std::move(event));
            },
            impl_->usec(timeout));
    } catch (const sdbus::Error& e) {
        detail::throwFromDbus(e);
    }
}

void Client::reload(std::optional<Timeout> timeout) {
    impl_->call(names::kManagerPath, names::kManagerInterface, "Reload", timeout);
}

std::vector<std::string> Client::consoleLog(const std::string& nameOrUuid, std::uint32_t lines) {
    auto reply = impl_->callGuest(impl_->guestPath(nameOrUuid), "GetConsoleLog", {}, lines);
    return read<std::vector<std::string>>(reply);
}

int Client::followConsoleLog(const std::string& nameOrUuid) {
    auto reply = impl_->callGuest(impl_->guestPath(nameOrUuid), "OpenConsoleLog", {});
    return read<sdbus::UnixFd>(reply).release();
}

int Client::openDisplay(const std::string& nameOrUuid) {
    auto reply = impl_->callGuest(impl_->guestPath(nameOrUuid), "OpenDisplay", {}, kNoOptions);
    return read<sdbus::UnixFd>(reply).release();
}

ConsolePty Client::openConsole(const std::string& nameOrUuid, const std::string& console) {
    auto reply =
        impl_->callGuest(impl_->guestPath(nameOrUuid), "OpenConsole", {}, console, kNoOptions);
    sdbus::UnixFd fd;
    ConsolePty pty;
    reply >> fd >> pty.path;
    pty.fd = fd.release();
    return pty;
}

int Client::watchResources(const std::string& nameOrUuid) {
    auto reply = impl_->callGuest(impl_->guestPath(nameOrUuid), "WatchResources", {});
    return read<sdbus::UnixFd>(reply).release();
}

DisplayInfo Client::getDisplay(const std::string& nameOrUuid) {
    auto reply = impl_->callGuest(impl_->guestPath(nameOrUuid), "GetDisplay", {});
    auto options = read<Options>(reply);
    DisplayInfo display;
    take(options, "mode", display.mode);
    take(options, "address", display.address);
    take(options, "port", display.port);
    take(options, "password-set", display.passwordSet);
    take(options, "uri", display.uri);
    return display;
}

void Client::setDisplay(const std::string& nameOrUuid, const std::string& mode,
                        const DisplayOptions& options, std::optional<Timeout> timeout) {
    impl_->callGuest(impl_->guestPath(nameOrUuid), "SetDisplay", timeout, mode, toOptions(options));
}

void Client::setDisplayPassword(const std::string& nameOrUuid, const std::string& password,
                                std::optional<Timeout> timeout) {
    impl_->callGuest(impl_->guestPath(nameOrUuid), "SetDisplayPassword", timeout, password);
}

std::vector<HelperInfo> Client::helpers() {
    std::vector<HelperInfo> helpers;
    for (const auto& [path, interfaces] : impl_->managedObjects()) {
        if (auto it = interfaces.find(names::kHelperInterface); it != interfaces.end()) {
            helpers.push_back(detail::helperFromProperties(path, it->second));
        }
    }
    std::sort(helpers.begin(), helpers.end(),
              [](const HelperInfo& a, const HelperInfo& b) { return a.name < b.name; });
    return helpers;
}

HelperInfo Client::helper(const std::string& name) {
    return impl_->helper(name);
}

void Client::helperStart(const std::string& name, std::optional<Timeout> timeout) {
    impl_->call(impl_->helper(name).path, names::kHelperInterface, "Start", timeout);
}

void Client::helperStop(const std::string& name, std::optional<Timeout> timeout) {
    impl_->call(impl_->helper(name).path, names::kHelperInterface, "Stop", timeout);
}

void Client::helperRestart(const std::string& name, std::optional<Timeout> timeout) {
    impl_->call(impl_->helper(name).path, names::kHelperInterface, "Restart", timeout);
}

} // namespace stubdom
