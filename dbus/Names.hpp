// Every name of the org.xen.Stubdom API in one place: bus name, object paths,
// interfaces, error names and polkit actions. The daemon's server, the client
// library and the tests use these, so a rename happens here or nowhere.
#pragma once

namespace stubdomd::dbus {

inline constexpr const char* kBusName = "org.xen.Stubdom";

// Objects.
inline constexpr const char* kManagerPath = "/org/xen/Stubdom";
// A guest's object is kGuestPathPrefix + sd_bus_path_encode'd uuid (one path element).
inline constexpr const char* kGuestPathPrefix = "/org/xen/Stubdom/guest";
// A helper's object is kHelperPathPrefix + "/" + its name with '-' written as '_'.
inline constexpr const char* kHelperPathPrefix = "/org/xen/Stubdom/helper";

// Interfaces (also the generated classes' INTERFACE_NAME).
inline constexpr const char* kManagerInterface = "org.xen.Stubdom.Manager";
inline constexpr const char* kGuestInterface = "org.xen.Stubdom.Guest";
inline constexpr const char* kHelperInterface = "org.xen.Stubdom.Helper";

// Errors of our own (org.xen.Stubdom.Error.<ErrorCode name>) ...
inline constexpr const char* kErrorPrefix = "org.xen.Stubdom.Error.";
inline constexpr const char* kErrorNoSuchGuest = "org.xen.Stubdom.Error.NoSuchGuest";
inline constexpr const char* kErrorNotHvm = "org.xen.Stubdom.Error.NotHvm";
inline constexpr const char* kErrorInvalidState = "org.xen.Stubdom.Error.InvalidState";
inline constexpr const char* kErrorInvalidConfig = "org.xen.Stubdom.Error.InvalidConfig";
inline constexpr const char* kErrorInvalidDisplay = "org.xen.Stubdom.Error.InvalidDisplay";
inline constexpr const char* kErrorSpawnFailed = "org.xen.Stubdom.Error.SpawnFailed";
inline constexpr const char* kErrorTimedOut = "org.xen.Stubdom.Error.TimedOut";
inline constexpr const char* kErrorBusy = "org.xen.Stubdom.Error.Busy";
inline constexpr const char* kErrorNotSupported = "org.xen.Stubdom.Error.NotSupported";
// ... and the standard ones we answer with.
inline constexpr const char* kErrorInvalidArgs = "org.freedesktop.DBus.Error.InvalidArgs";
inline constexpr const char* kErrorAccessDenied = "org.freedesktop.DBus.Error.AccessDenied";
inline constexpr const char* kErrorFailed = "org.freedesktop.DBus.Error.Failed";

// Polkit actions (to be declared in systemd-units/org.xen.Stubdom.policy).
inline constexpr const char* kActionManage = "org.xen.Stubdom.manage";
inline constexpr const char* kActionDisplay = "org.xen.Stubdom.display";

// Polkit itself.
inline constexpr const char* kPolkitBusName = "org.freedesktop.PolicyKit1";
inline constexpr const char* kPolkitPath = "/org/freedesktop/PolicyKit1/Authority";
inline constexpr const char* kPolkitInterface = "org.freedesktop.PolicyKit1.Authority";

// logind, for host sleep: the delay inhibitor and PrepareForSleep.
inline constexpr const char* kLogindBusName = "org.freedesktop.login1";
inline constexpr const char* kLogindPath = "/org/freedesktop/login1";
inline constexpr const char* kLogindInterface = "org.freedesktop.login1.Manager";

} // namespace stubdomd::dbus
