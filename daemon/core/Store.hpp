// The xenstore as the core sees it. The real adapter (daemon/xen/XenStore) wraps
// libxenstore; unit tests use a fake. Paths are absolute xenstore paths.
#pragma once

#include "Types.hpp"

#include <cstdint>
#include <functional>
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
    // XS_IS_DOMAIN_INTRODUCED: the toolstack has told xenstored about the domain, which
    // libxl does only after its last write of the domain's nodes.
    virtual bool introduced(DomId domid) = 0;

    // A watch calls the one who set it: `callback` runs from the event loop with the
    // path that changed (once on registration, as xenstore fires it), until unwatch().
    // One XS_WATCH per call; the adapter makes the token. An event still queued when its
    // watch is removed is dropped.
    using WatchId = std::uint64_t;
    using WatchCallback = std::function<void(const std::string& path)>;
    virtual WatchId watch(const std::string& path, WatchCallback callback) = 0;
    // One XS_UNWATCH; an id that is not watched (0, or removed already) is a no-op.
    virtual void unwatch(WatchId id) = 0;
};

} // namespace stubdomd
