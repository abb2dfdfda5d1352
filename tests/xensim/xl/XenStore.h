// The fake xl's connection to xenstored (libxenstore, socket from XENSTORED_PATH), with
// the few operations libxl uses to build and tear down a domain's tree.
#pragma once

#include "xen_cxx.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace xensim {

using Perms = std::vector<xs_permissions>;

class XenStore {
public:
    XenStore(); // throws XlError when xenstored cannot be reached
    ~XenStore();
    XenStore(const XenStore&) = delete;
    XenStore& operator=(const XenStore&) = delete;

    std::optional<std::string> read(const std::string& path, xs_transaction_t t = XBT_NULL);
    std::vector<std::string> directory(const std::string& path, xs_transaction_t t = XBT_NULL);
    std::optional<Perms> perms(const std::string& path, xs_transaction_t t = XBT_NULL);
    bool write(const std::string& path, const std::string& value, xs_transaction_t t = XBT_NULL);
    bool mkdir(const std::string& path, xs_transaction_t t = XBT_NULL);
    bool rm(const std::string& path, xs_transaction_t t = XBT_NULL);
    bool setPerms(const std::string& path, const Perms& perms, xs_transaction_t t = XBT_NULL);
    // libxl__xs_mknod: an empty node with the given permissions.
    bool mknod(const std::string& path, const Perms& perms, xs_transaction_t t);

    bool introduce(uint32_t domid, unsigned long mfn, unsigned port);
    bool release(uint32_t domid);

    bool watch(const std::string& path, const std::string& token);
    int fd() const { return xs_fileno(xsh_); }
    // Drains pending watch events without blocking; true if any arrived.
    bool drainWatches();

    xs_handle* raw() { return xsh_; }

private:
    xs_handle* xsh_;
};

// A xenstore transaction, retried by the caller on EAGAIN as libxl does; aborted if
// not committed.
class Transaction {
public:
    explicit Transaction(XenStore& xs);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    xs_transaction_t id() const { return t_; }
    // False with errno EAGAIN when another writer got in first: start over.
    bool commit();

private:
    XenStore& xs_;
    xs_transaction_t t_;
};

// Runs body(t) in a transaction until it commits.
template <typename Body> void inTransaction(XenStore& xs, Body&& body) {
    for (;;) {
        Transaction t(xs);
        body(t.id());
        if (t.commit())
            return;
    }
}

} // namespace xensim
