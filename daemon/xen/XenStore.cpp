#include "xen/XenStore.hpp"

#include "core/Log.hpp"
#include "loop/SystemError.hpp"

#include <poll.h>
// xenstore.h (4.17) declares its functions without C linkage for C++ callers.
extern "C" {
#include <xenstore.h>
}

#include <cerrno>
#include <cstdlib>
#include <utility>

namespace stubdomd {

namespace {

// libxenstore hands out malloc()ed buffers; this frees each on every path.
struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
};
template <typename T> using Malloced = std::unique_ptr<T, FreeDeleter>;

Error storeError(const char* op, const std::string& path, int err = errno) {
    return systemError(std::string("xenstore ") + op + " " + path, err);
}

unsigned toBits(Access access) {
    switch (access) {
    case Access::None:
        return XS_PERM_NONE;
    case Access::Read:
        return XS_PERM_READ;
    case Access::Write:
        return XS_PERM_WRITE;
    case Access::Both:
        return XS_PERM_READ | XS_PERM_WRITE;
    }
    return XS_PERM_NONE;
}

Access fromBits(unsigned bits) {
    bool r = bits & XS_PERM_READ;
    bool w = bits & XS_PERM_WRITE;
    return r && w ? Access::Both : r ? Access::Read : w ? Access::Write : Access::None;
}

} // namespace

void XenStore::Closer::operator()(xs_handle* handle) const {
    xs_close(handle);
}

XenStore::XenStore() : handle_(xs_open(0)) {
    if (!handle_)
        throw storeError("open", "");
}

XenStore::~XenStore() {
    detach();
}

std::optional<std::string> XenStore::read(const std::string& path) {
    ++requests_;
    unsigned len = 0;
    Malloced<char> data(static_cast<char*>(xs_read(handle_.get(), XBT_NULL, path.c_str(), &len)));
    if (!data) {
        if (errno == ENOENT)
            return std::nullopt;
        throw storeError("read", path);
    }
    return std::string(data.get(), len);
}

void XenStore::write(const std::string& path, const std::string& value) {
    ++requests_;
    if (!xs_write(handle_.get(), XBT_NULL, path.c_str(), value.data(),
                  static_cast<unsigned>(value.size())))
        throw storeError("write", path);
}

void XenStore::mkdir(const std::string& path) {
    ++requests_;
    if (!xs_mkdir(handle_.get(), XBT_NULL, path.c_str()))
        throw storeError("mkdir", path);
}

void XenStore::remove(const std::string& path) {
    ++requests_;
    if (!xs_rm(handle_.get(), XBT_NULL, path.c_str()) && errno != ENOENT)
        throw storeError("rm", path);
}

std::vector<std::string> XenStore::list(const std::string& path) {
    ++requests_;
    unsigned num = 0;
    Malloced<char*> names(xs_directory(handle_.get(), XBT_NULL, path.c_str(), &num));
    if (!names) {
        if (errno == ENOENT)
            return {};
        throw storeError("directory", path);
    }
    return std::vector<std::string>(names.get(), names.get() + num);
}

std::optional<std::vector<Permission>> XenStore::permissions(const std::string& path) {
    ++requests_;
    unsigned num = 0;
    Malloced<xs_permissions> perms(xs_get_permissions(handle_.get(), XBT_NULL, path.c_str(), &num));
    if (!perms) {
        if (errno == ENOENT)
            return std::nullopt;
        throw storeError("get_permissions", path);
    }
    std::vector<Permission> result;
    for (unsigned i = 0; i < num; ++i)
        result.push_back(Permission{perms.get()[i].id, fromBits(perms.get()[i].perms)});
    return result;
}

void XenStore::setPermissions(const std::string& path, const std::vector<Permission>& perms) {
    ++requests_;
    std::vector<xs_permissions> raw;
    for (const auto& p : perms)
        raw.push_back(xs_permissions{p.domid, toBits(p.access)});
    if (!xs_set_permissions(handle_.get(), XBT_NULL, path.c_str(), raw.data(),
                            static_cast<unsigned>(raw.size())))
        throw storeError("set_permissions", path);
}

void XenStore::setTarget(DomId stub, DomId guest) {
    ++requests_;
    if (!xs_set_target(handle_.get(), stub, guest))
        throw storeError("set_target",
                         "domain " + std::to_string(stub) + " -> " + std::to_string(guest));
}

bool XenStore::introduced(DomId domid) {
    ++requests_;
    // The call answers false on an error too; errno tells the two apart.
    errno = 0;
    if (xs_is_domain_introduced(handle_.get(), domid))
        return true;
    if (errno != 0)
        throw storeError("is_domain_introduced", "domain " + std::to_string(domid));
    return false;
}

namespace {
std::string tokenOf(Store::WatchId id) {
    return "w" + std::to_string(id);
}
} // namespace

Store::WatchId XenStore::watch(const std::string& path, WatchCallback callback) {
    const WatchId id = nextWatch_++;
    const std::string token = tokenOf(id);
    ++requests_;
    if (!xs_watch(handle_.get(), path.c_str(), token.c_str()))
        throw storeError("watch", path);
    watches_[token] = Watch{path, std::move(callback)};
    return id;
}

void XenStore::unwatch(WatchId id) {
    auto it = watches_.find(tokenOf(id));
    if (it == watches_.end())
        return;
    const std::string path = std::move(it->second.path);
    watches_.erase(it);
    ++requests_;
    if (!xs_unwatch(handle_.get(), path.c_str(), tokenOf(id).c_str()))
        throw storeError("unwatch", path);
}

int XenStore::fd() const {
    int fd = xs_fileno(handle_.get());
    if (fd < 0)
        throw storeError("fileno", "");
    return fd;
}

void XenStore::dispatchWatches() {
    for (;;) {
        Malloced<char*> event(xs_check_watch(handle_.get()));
        if (!event) {
            if (errno == EAGAIN)
                return;
            throw storeError("check_watch", "");
        }
        std::string path = event.get()[XS_WATCH_PATH];
        std::string token = event.get()[XS_WATCH_TOKEN];
        auto watch = watches_.find(token);
        if (watch == watches_.end())
            continue; // unwatched after the event was queued
        // A copy: the callback may remove its own watch.
        WatchCallback callback = watch->second.callback;
        // The fd may already read as idle while events remain queued, so one failing
        // event must not strand the ones behind it.
        try {
            callback(path);
        } catch (const std::exception& e) {
            logError({}, "xenstore watch " + path + " (" + token + "): " + e.what());
        }
    }
}

void XenStore::attach(EventLoop& loop, std::function<void(const Error&)> onLost) {
    detach();
    int watchFd = fd();
    loop.addFd(watchFd, POLLIN, [this, onLost = std::move(onLost)](short) {
        try {
            dispatchWatches();
        } catch (const Error& e) {
            detach();
            if (onLost)
                onLost(e);
            else
                logError({}, std::string(e.what()) + "; no more watch events");
        }
    });
    loop_ = &loop;
    attachedFd_ = watchFd;
}

void XenStore::detach() {
    if (loop_)
        loop_->removeFd(attachedFd_);
    loop_ = nullptr;
    attachedFd_ = -1;
}

} // namespace stubdomd
