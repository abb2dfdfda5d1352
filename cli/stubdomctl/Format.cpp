#include "Format.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>

namespace stubdomctl {

using stubdom::GuestInfo;
using stubdom::HelperInfo;

namespace {

// D-Bus property name → JSON key and value, so toJson and the monitor's changed
// properties cannot disagree.
struct Field {
    const char* property;
    const char* key;
    std::function<nlohmann::json(const GuestInfo&)> value;
};

const std::vector<Field>& guestFields() {
    static const std::vector<Field> fields = {
        {"Name", "name",
         [](const GuestInfo& g) {
             return g.name;
         }},
        {"UUID", "uuid",
         [](const GuestInfo& g) {
             return g.uuid;
         }},
        {"DomId", "domid",
         [](const GuestInfo& g) {
             return g.domid;
         }},
        {"StubDomId", "stub_domid",
         [](const GuestInfo& g) {
             return g.stubDomid;
         }},
        {"State", "state",
         [](const GuestInfo& g) {
             return g.state;
         }},
        {"StateReason", "state_reason",
         [](const GuestInfo& g) {
             return g.stateReason;
         }},
        {"Flavour", "flavour",
         [](const GuestInfo& g) {
             return g.flavour;
         }},
        {"DisplayMode", "display_mode",
         [](const GuestInfo& g) {
             return g.displayMode;
         }},
        {"DisplayAddress", "display_address",
         [](const GuestInfo& g) {
             return g.displayAddress;
         }},
        {"DisplayPort", "display_port",
         [](const GuestInfo& g) {
             return g.displayPort;
         }},
        {"Restarts", "restarts",
         [](const GuestInfo& g) {
             return g.restarts;
         }},
        {"LastError", "last_error",
         [](const GuestInfo& g) {
             return g.lastError;
         }},
        {"StubMemoryMiB", "stub_memory_mib",
         [](const GuestInfo& g) {
             return g.stubMemoryMiB;
         }},
        {"StubMemoryUsedKiB", "stub_memory_used_kib",
         [](const GuestInfo& g) {
             return g.stubMemoryUsedKiB;
         }},
        {"StubCpuTimeNs", "stub_cpu_time_ns",
         [](const GuestInfo& g) {
             return g.stubCpuTimeNs;
         }},
    };
    return fields;
}

std::string orDash(const std::string& text) {
    return text.empty() ? "-" : text;
}

std::string dashIfZero(std::uint32_t domid) {
    return domid == 0 ? "-" : std::to_string(domid);
}

// Left-aligned columns as wide as their widest cell.
void printTable(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()));
        for (std::size_t i = 0; i < row.size(); ++i) {
            widths[i] = std::max(widths[i], row[i].size());
        }
    }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) {
                line += std::string(widths[i] - row[i].size() + 2, ' ');
            }
        }
        out << line << '\n';
    }
}

} // namespace

nlohmann::json toJson(const GuestInfo& guest) {
    nlohmann::json json = nlohmann::json::object();
    for (const auto& field : guestFields()) {
        json[field.key] = field.value(guest);
    }
    json["object_path"] = guest.path;
    return json;
}

nlohmann::json propertiesToJson(const GuestInfo& guest,
                                const std::vector<std::string>& properties) {
    nlohmann::json json = nlohmann::json::object();
    for (const auto& field : guestFields()) {
        if (std::find(properties.begin(), properties.end(), field.property) != properties.end()) {
            json[field.key] = field.value(guest);
        }
    }
    return json;
}

std::string propertyText(const GuestInfo& guest, const std::string& property) {
    for (const auto& field : guestFields()) {
        if (property == field.property) {
            auto value = field.value(guest);
            return value.is_string() ? "'" + value.get<std::string>() + "'" : value.dump();
        }
    }
    return "?";
}

nlohmann::json toJson(const HelperInfo& helper) {
    return {{"name", helper.name},          {"state", helper.state},
            {"main_pid", helper.mainPid},   {"restarts", helper.restarts},
            {"last_exit", helper.lastExit}, {"object_path", helper.path}};
}

void printGuestTable(std::ostream& out, const std::vector<GuestInfo>& guests) {
    std::vector<std::vector<std::string>> rows = {{"NAME", "DOMID", "STUBDOM", "STATE", "UUID"}};
    for (const auto& g : guests) {
        rows.push_back({g.name, std::to_string(g.domid), dashIfZero(g.stubDomid), g.state, g.uuid});
    }
    printTable(out, rows);
}

void printGuestStatus(std::ostream& out, const GuestInfo& g) {
    std::string display = g.displayMode;
    if (!g.displayAddress.empty() || g.displayPort >= 0) {
        display += " on " + orDash(g.displayAddress) + ":" +
                   (g.displayPort >= 0 ? std::to_string(g.displayPort) : "?");
    }
    std::vector<std::vector<std::string>> rows = {
        {"Name:", g.name},
        {"UUID:", g.uuid},
        {"Domain:", std::to_string(g.domid)},
        {"Stub domain:", g.stubDomid == 0 ? "none" : std::to_string(g.stubDomid)},
        {"State:", g.state},
    };
    if (!g.stateReason.empty()) {
        rows.push_back({"Reason:", g.stateReason});
    }
    rows.push_back({"Flavour:", g.flavour});
    rows.push_back({"Display:", display});
    if (g.stubMemoryMiB != 0) {
        rows.push_back({"Stub memory:", std::to_string(g.stubMemoryMiB) + " MiB"});
    }
    if (g.stubDomid != 0 && g.stubMemoryUsedKiB != 0) {
        char cpu[32];
        std::snprintf(cpu, sizeof cpu, "%.1f s", static_cast<double>(g.stubCpuTimeNs) / 1e9);
        rows.push_back(
            {"Stub uses:", std::to_string(g.stubMemoryUsedKiB / 1024) + " MiB, vCPU time " + cpu});
    }
    rows.push_back({"Restarts:", std::to_string(g.restarts)});
    if (!g.lastError.empty()) {
        rows.push_back({"Last error:", g.lastError});
    }
    rows.push_back({"Object:", g.path});
    printTable(out, rows);
}

void printHelperTable(std::ostream& out, const std::vector<HelperInfo>& helpers) {
    std::vector<std::vector<std::string>> rows = {
        {"NAME", "STATE", "PID", "RESTARTS", "LAST EXIT"}};
    for (const auto& h : helpers) {
        rows.push_back({h.name, h.state, dashIfZero(h.mainPid), std::to_string(h.restarts),
                        orDash(h.lastExit)});
    }
    printTable(out, rows);
}

} // namespace stubdomctl
