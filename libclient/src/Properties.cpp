// D-Bus property dictionaries → GuestInfo / HelperInfo.
#include "Internal.hpp"

#include <functional>
#include <unordered_map>

namespace stubdom {

bool operator==(const GuestInfo& a, const GuestInfo& b) {
    auto tie = [](const GuestInfo& g) {
        return std::tie(g.path, g.name, g.uuid, g.domid, g.stubDomid, g.state, g.stateReason,
                        g.flavour, g.displayMode, g.displayAddress, g.displayPort, g.restarts,
                        g.lastError, g.stubMemoryMiB, g.stubMemoryUsedKiB, g.stubCpuTimeNs);
    };
    return tie(a) == tie(b);
}

namespace detail {
namespace {

template <typename T> void assign(T& field, const sdbus::Variant& value) {
    if (value.containsValueOfType<T>()) {
        field = value.get<T>();
    }
}

template <typename Info> using Setter = std::function<void(Info&, const sdbus::Variant&)>;

template <typename Info, typename T> Setter<Info> field(T Info::*member) {
    return [member](Info& info, const sdbus::Variant& value) {
        assign(info.*member, value);
    };
}

const std::unordered_map<std::string, Setter<GuestInfo>>& guestSetters() {
    static const std::unordered_map<std::string, Setter<GuestInfo>> setters = {
        {"Name", field(&GuestInfo::name)},
        {"UUID", field(&GuestInfo::uuid)},
        {"DomId", field(&GuestInfo::domid)},
        {"StubDomId", field(&GuestInfo::stubDomid)},
        {"State", field(&GuestInfo::state)},
        {"StateReason", field(&GuestInfo::stateReason)},
        {"Flavour", field(&GuestInfo::flavour)},
        {"DisplayMode", field(&GuestInfo::displayMode)},
        {"DisplayAddress", field(&GuestInfo::displayAddress)},
        {"DisplayPort", field(&GuestInfo::displayPort)},
        {"Restarts", field(&GuestInfo::restarts)},
        {"LastError", field(&GuestInfo::lastError)},
        {"StubMemoryMiB", field(&GuestInfo::stubMemoryMiB)},
        {"StubMemoryUsedKiB", field(&GuestInfo::stubMemoryUsedKiB)},
        {"StubCpuTimeNs", field(&GuestInfo::stubCpuTimeNs)},
    };
    return setters;
}

const std::unordered_map<std::string, Setter<HelperInfo>>& helperSetters() {
    static const std::unordered_map<std::string, Setter<HelperInfo>> setters = {
        {"Name", field(&HelperInfo::name)},         {"State", field(&HelperInfo::state)},
        {"MainPID", field(&HelperInfo::mainPid)},   {"Restarts", field(&HelperInfo::restarts)},
        {"LastExit", field(&HelperInfo::lastExit)},
    };
    return setters;
}

} // namespace

void applyGuestProperty(GuestInfo& guest, const std::string& name, const sdbus::Variant& value) {
    const auto& setters = guestSetters();
    if (auto it = setters.find(name); it != setters.end()) {
        it->second(guest, value);
    }
}

GuestInfo guestFromProperties(const std::string& path, const Properties& properties) {
    GuestInfo guest;
    guest.path = path;
    for (const auto& [name, value] : properties) {
        applyGuestProperty(guest, name, value);
    }
    return guest;
}

HelperInfo helperFromProperties(const std::string& path, const Properties& properties) {
    HelperInfo helper;
    helper.path = path;
    const auto& setters = helperSetters();
    for (const auto& [name, value] : properties) {
        if (auto it = setters.find(name); it != setters.end()) {
            it->second(helper, value);
        }
    }
    return helper;
}

} // namespace detail
} // namespace stubdom
