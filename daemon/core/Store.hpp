// The xenstore as the core sees it. The real adapter (daemon/xen/XenStore) wraps
// libxenstore; unit tests use a fake. Paths are absolute xenstore paths.
#pragma once

#include "Types.hpp"

#include <optional>
#include <string>
#include <vector>

namespace stubdomd {

enum class Access { None, Read, Write, Both };

// One entry of a node's permission list: the first entry names the owner and the
// access everyone not listed gets; the others grant access to one domain each.
struct Permission {
    DomId domid;
    Access access;
    bool operator==(const Permission& other) const {
        return domid == other.domid && access == other.access;
    }
};

class Store {
public:
    virtual ~Store() = default;

    // nullopt when the node does not exist.
    virtual std::optional<std::string> read(const std::string& path) = 0;
    virtual void write(const std::string& path, const std::string& value) = 0;
    virtual void mkdir(const std::string& path) = 0;
    // Removing a node that does not exist is not an error.
    virtual void remove(const std::string& path) = 0;
    // Children's names (not paths); empty when the node does not exist.
    virtual std::vector<std::string> list(const std::string& path) = 0;
    // nullopt when the node does not exist; otherwise at least one entry (the owner).
    virtual std::optional<std::vector<Permission>> permissions(const std::string& path) = 0;
    virtual void setPermissions(const std::string& path, const std::vector<Permission>& perms) = 0;
    // XS_SET_TARGET: the stub domain gets the guest's privileges in the store.
    virtual void setTarget(DomId stub, DomId guest) = 0;

    // Watch events arrive through the event loop and are handed to whoever
    // registered the adapter's callback; the token comes back with each event.
    virtual void watch(const std::string& path, const std::string& token) = 0;
    virtual void unwatch(const std::string& path, const std::string& token) = 0;
};

} // namespace stubdomd
