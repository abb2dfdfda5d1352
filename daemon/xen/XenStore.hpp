// The Store interface over libxenstore. xs_open(0) honours XENSTORED_PATH, which is
// how the daemon reaches the simulated host's xenstored.
#pragma once

#include "core/Errors.hpp"
#include "core/Store.hpp"
#include "loop/EventLoop.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct xs_handle;

namespace stubdomd {

class XenStore : public Store {
public:
    // Error(Internal) when xenstored cannot be reached.
    XenStore();
    ~XenStore() override; // detaches from the loop first
    XenStore(const XenStore&) = delete;
    XenStore& operator=(const XenStore&) = delete;

    // Every failure other than the documented "does not exist" cases is
    // Error(Internal, "xenstore <op> <path>: <strerror>").
    std::optional<std::string> read(const std::string& path) override;
    void write(const std::string& path, const std::string& value) override;
    void mkdir(const std::string& path) override;
    void remove(const std::string& path) override;
    std::vector<std::string> list(const std::string& path) override;
    std::optional<std::vector<Permission>> permissions(const std::string& path) override;
    void setPermissions(const std::string& path, const std::vector<Permission>& perms) override;
    void setTarget(DomId stub, DomId guest) override;
    bool introduced(DomId domid) override;
    WatchId watch(const std::string& path, WatchCallback callback) override;
    void unwatch(WatchId id) override;

    // Readable when watch events are pending.
    int fd() const;
    // Hands every pending event to its watch's callback without blocking. An exception
    // from a callback is logged and the next event still delivered.
    void dispatchWatches();
    // Registers fd() with `loop` (which must outlive this object or a detach()) so
    // that events reach their callbacks from the loop. When the connection fails
    // (xenstored gone) the adapter detaches, so the dead fd cannot spin the loop, and
    // hands the error to `onLost`, or logs it when there is none.
    void attach(EventLoop& loop, std::function<void(const Error&)> onLost = {});
    void detach();

    // Requests this process sent to xenstored through this object: one per call above
    // (dispatchWatches sends none). For the requests-per-guest benchmark.
    std::uint64_t requestCount() const { return requests_; }

private:
    struct Closer {
        void operator()(xs_handle* handle) const;
    };
    std::unique_ptr<xs_handle, Closer> handle_;
    EventLoop* loop_ = nullptr;
    int attachedFd_ = -1; // kept so that detach() (and the destructor) cannot fail
    std::uint64_t requests_ = 0;
    struct Watch {
        std::string path;
        WatchCallback callback;
    };
    // By token: "w<id>", unique for the life of this object, so an event queued for a
    // watch that is gone finds nothing here and is dropped.
    std::map<std::string, Watch> watches_;
    WatchId nextWatch_ = 1;
};

} // namespace stubdomd
