#include "XenStore.h"

#include "XlError.h"
#include "sim_cxx.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <poll.h>

namespace xensim {

using xsim::Malloced;

XenStore::XenStore() : xsh_(xs_open(0)) {
    if (!xsh_)
        fail(kExitFailure, std::string("cannot open xenstore connection: ") + std::strerror(errno) +
                               " (is XENSTORED_PATH set?)");
}

XenStore::~XenStore() {
    xs_close(xsh_);
}

std::optional<std::string> XenStore::read(const std::string& path, xs_transaction_t t) {
    return xsim::xsRead(xsh_, path, t);
}

std::vector<std::string> XenStore::directory(const std::string& path, xs_transaction_t t) {
    return xsim::xsDirectory(xsh_, path, t);
}

std::optional<Perms> XenStore::perms(const std::string& path, xs_transaction_t t) {
    unsigned n = 0;
    Malloced<xs_permissions> p(xs_get_permissions(xsh_, t, path.c_str(), &n));
    if (!p)
        return std::nullopt;
    return Perms(p.get(), p.get() + n);
}

bool XenStore::write(const std::string& path, const std::string& value, xs_transaction_t t) {
    return xs_write(xsh_, t, path.c_str(), value.data(), value.size());
}

bool XenStore::mkdir(const std::string& path, xs_transaction_t t) {
    return xs_mkdir(xsh_, t, path.c_str());
}

bool XenStore::rm(const std::string& path, xs_transaction_t t) {
    return xs_rm(xsh_, t, path.c_str());
}

bool XenStore::setPerms(const std::string& path, const Perms& perms, xs_transaction_t t) {
    Perms copy = perms; // xs_set_permissions takes a non-const array
    return xs_set_permissions(xsh_, t, path.c_str(), copy.data(),
                              static_cast<unsigned>(copy.size()));
}

bool XenStore::mknod(const std::string& path, const Perms& perms, xs_transaction_t t) {
    return write(path, "", t) && setPerms(path, perms, t);
}

bool XenStore::introduce(uint32_t domid, unsigned long mfn, unsigned port) {
    return xs_introduce_domain(xsh_, domid, mfn, port);
}

bool XenStore::release(uint32_t domid) {
    return xs_release_domain(xsh_, domid);
}

bool XenStore::watch(const std::string& path, const std::string& token) {
    return xs_watch(xsh_, path.c_str(), token.c_str());
}

bool XenStore::drainWatches() {
    bool any = false;
    for (;;) {
        Malloced<char*> ev(xs_check_watch(xsh_));
        if (!ev)
            return any;
        any = true;
    }
}

Transaction::Transaction(XenStore& xs) : xs_(xs), t_(xs_transaction_start(xs.raw())) {
    if (t_ == XBT_NULL)
        fail(kExitFailure,
             std::string("xenstore transaction start failed: ") + std::strerror(errno));
}

Transaction::~Transaction() {
    if (t_ != XBT_NULL)
        xs_transaction_end(xs_.raw(), t_, true);
}

bool Transaction::commit() {
    bool ok = xs_transaction_end(xs_.raw(), t_, false);
    int e = errno;
    t_ = XBT_NULL;
    if (!ok && e != EAGAIN)
        fail(kExitFailure, std::string("xenstore transaction commit failed: ") + std::strerror(e));
    return ok;
}

} // namespace xensim
