// Reads what stubdomd needs to know about a domain it has not seen before, applying
// the trust rule: only nodes owned by dom0 count, since a guest can write parts of
// its own subtree and must not be able to steer the daemon.
#pragma once

#include "Log.hpp"
#include "Store.hpp"
#include "Types.hpp"

#include <optional>
#include <string>
#include <variant>

namespace stubdomd {

struct DomainFacts {
    DomId domid = 0;
    std::string name;
    std::string uuid;
    std::optional<DomId> target; // set: this is some guest's stub domain
};

// Why a domain's facts could not be trusted or read; the domain is then ignored.
struct ProbeRefusal {
    std::string reason;
    bool retryLater = false; // the toolstack has not written the node yet
};

class DomainProbe {
public:
    explicit DomainProbe(Store& store) : store_(store) {}

    // name, vm (→ uuid) and target, each only if dom0 owns it.
    std::variant<DomainFacts, ProbeRefusal> probe(DomId domid);
    // The dom0-owned name node, checked to be a domain name (badDomainName).
    std::variant<std::string, ProbeRefusal> name(DomId domid);
    // The uuid of the dom0-owned vm node ("/vm/<uuid>"): every domain libxl builds has it.
    std::variant<std::string, ProbeRefusal> uuid(DomId domid);
    // A dom0-owned node's value; nullopt if missing; a refusal text if guest-owned.
    std::variant<std::optional<std::string>, ProbeRefusal> readTrusted(const std::string& path);
    // A node that dom0 or the stub domain `stub` may write (the device model's state, the
    // VNC port its vfb backend publishes): its value only if one of them owns it.
    std::variant<std::optional<std::string>, ProbeRefusal> readOwnedByStub(const std::string& path,
                                                                           DomId stub);

private:
    Store& store_;
};

// What readTrusted or readOwnedByStub found: the value, or nullopt when the node is missing
// or was refused; a refusal is logged as a warning with `fields` (the daemon goes on
// without the value).
std::optional<std::string>
valueOrLoggedRefusal(const std::variant<std::optional<std::string>, ProbeRefusal>& read,
                     const LogFields& fields);

// "/vm/<uuid>" → "<uuid>", checked to be a uuid; nullopt otherwise.
std::optional<std::string> uuidFromVmPath(const std::string& vmPath);
std::optional<DomId> parseDomid(const std::string& text);
// A process id as Linux hands them out (1 .. 2^22, PID_MAX_LIMIT); nullopt otherwise.
std::optional<long> parsePid(const std::string& text);
// Why `name` cannot be a domain's name here, or nullopt if it can: it is part of a file
// name (<xen config dir>/stubdom-<name>), so no '/', no control character, not . or ..,
// and short enough for NAME_MAX with the prefix.
std::optional<std::string> badDomainName(const std::string& name);

} // namespace stubdomd
