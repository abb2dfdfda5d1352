#include "core/DomainProbe.hpp"

#include "core/Excerpt.hpp"
#include "core/XenPaths.hpp"

#include <cctype>
#include <charconv>

namespace stubdomd {

namespace {
constexpr DomId kDomidMax = 0x7FEF; // DOMID_FIRST_RESERVED - 1
constexpr long kPidMax = 1L << 22;  // PID_MAX_LIMIT on 64-bit Linux
// NAME_MAX (255) less "stubdom-": the longest name a stub-domain config file can carry.
constexpr std::size_t kDomainNameMax = 255 - 8;

std::string ownerText(DomId owner) {
    return "owned by domain " + std::to_string(owner);
}

} // namespace

std::optional<std::string>
valueOrLoggedRefusal(const std::variant<std::optional<std::string>, ProbeRefusal>& read,
                     const LogFields& fields) {
    if (const auto* refusal = std::get_if<ProbeRefusal>(&read)) {
        logWarning(fields, refusal->reason);
        return std::nullopt;
    }
    return std::get<std::optional<std::string>>(read);
}

std::optional<long> parsePid(const std::string& text) {
    long value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || text.empty() || value < 1 || value > kPidMax)
        return std::nullopt;
    return value;
}

std::optional<std::string> badDomainName(const std::string& name) {
    if (name.empty() || name == "." || name == "..")
        return std::string("empty, . or ..");
    if (name.size() > kDomainNameMax)
        return std::to_string(name.size()) + " bytes, more than a config file name allows (" +
               std::to_string(kDomainNameMax) + ")";
    for (char c : name) {
        if (c == '/')
            return std::string("it holds a '/'");
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return std::string("it holds a control character");
    }
    // Every D-Bus string must be UTF-8: one name that is not would make ListGuests and
    // GetManagedObjects fail for every client.
    if (!validUtf8(name))
        return std::string("it is not valid UTF-8");
    return std::nullopt;
}

std::optional<DomId> parseDomid(const std::string& text) {
    DomId value = 0;
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || text.empty() || value > kDomidMax)
        return std::nullopt;
    return value;
}

std::optional<std::string> uuidFromVmPath(const std::string& vmPath) {
    const std::string prefix = "/vm/";
    if (vmPath.compare(0, prefix.size(), prefix) != 0)
        return std::nullopt;
    std::string uuid = vmPath.substr(prefix.size());
    // 8-4-4-4-12 hex digits, the only form libxl writes.
    if (uuid.size() != 36)
        return std::nullopt;
    for (std::size_t i = 0; i < uuid.size(); ++i) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? uuid[i] != '-' : !std::isxdigit(static_cast<unsigned char>(uuid[i])))
            return std::nullopt;
    }
    return uuid;
}

std::variant<std::optional<std::string>, ProbeRefusal>
DomainProbe::readTrusted(const std::string& path) {
    auto perms = store_.permissions(path);
    if (!perms)
        return std::optional<std::string>{};
    if (perms->front().domid != 0)
        return ProbeRefusal{
            path + " is " + ownerText(perms->front().domid) + ", not dom0; ignoring it", false};
    return store_.read(path);
}

std::variant<std::optional<std::string>, ProbeRefusal>
DomainProbe::readOwnedByStub(const std::string& path, DomId stub) {
    auto perms = store_.permissions(path);
    if (!perms)
        return std::optional<std::string>{};
    const DomId owner = perms->front().domid;
    if (owner != 0 && owner != stub)
        return ProbeRefusal{path + " is " + ownerText(owner) + ", not dom0 or the stub domain " +
                                std::to_string(stub) + "; ignoring it",
                            false};
    return store_.read(path);
}

std::variant<std::string, ProbeRefusal> DomainProbe::name(DomId domid) {
    auto name = readTrusted(paths::name(domid));
    if (auto* refusal = std::get_if<ProbeRefusal>(&name))
        return *refusal;
    const auto& nameValue = std::get<std::optional<std::string>>(name);
    if (!nameValue)
        return ProbeRefusal{paths::name(domid) + " does not exist yet", true};
    if (auto why = badDomainName(*nameValue))
        return ProbeRefusal{paths::name(domid) + " is '" + excerpt(*nameValue) +
                                "', not a domain name (" + *why + ")",
                            false};
    return *nameValue;
}

std::variant<std::string, ProbeRefusal> DomainProbe::uuid(DomId domid) {
    auto vm = readTrusted(paths::vm(domid));
    if (auto* refusal = std::get_if<ProbeRefusal>(&vm))
        return *refusal;
    const auto& vmValue = std::get<std::optional<std::string>>(vm);
    if (!vmValue)
        return ProbeRefusal{paths::vm(domid) + " does not exist yet", true};
    auto uuid = uuidFromVmPath(*vmValue);
    if (!uuid)
        return ProbeRefusal{paths::vm(domid) + " is '" + excerpt(*vmValue) + "', not /vm/<uuid>",
                            false};
    return *uuid;
}

std::variant<DomainFacts, ProbeRefusal> DomainProbe::probe(DomId domid) {
    DomainFacts facts;
    facts.domid = domid;

    // libxl writes a new domain's nodes in two transactions and introduces it only after
    // the second: a domain seen in between (another domain's event made us look) lacks
    // its memory nodes, and a stub built from it would get the wrong size.
    if (!store_.introduced(domid))
        return ProbeRefusal{"domain " + std::to_string(domid) +
                                " is not introduced to xenstored yet (the toolstack is still "
                                "writing its nodes)",
                            true};

    auto nameOrRefusal = name(domid);
    if (auto* refusal = std::get_if<ProbeRefusal>(&nameOrRefusal))
        return *refusal;
    facts.name = std::get<std::string>(nameOrRefusal);

    auto uuidOrRefusal = uuid(domid);
    if (auto* refusal = std::get_if<ProbeRefusal>(&uuidOrRefusal))
        return *refusal;
    facts.uuid = std::get<std::string>(uuidOrRefusal);

    auto target = readTrusted(paths::target(domid));
    if (auto* refusal = std::get_if<ProbeRefusal>(&target))
        return *refusal;
    auto& targetValue = std::get<std::optional<std::string>>(target);
    if (targetValue) {
        facts.target = parseDomid(*targetValue);
        if (!facts.target)
            return ProbeRefusal{
                paths::target(domid) + " is '" + excerpt(*targetValue) + "', not a domid", false};
    }
    return facts;
}

} // namespace stubdomd
