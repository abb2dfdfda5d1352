/* What the sim's C++ programs (the fake xl, xensim-dom, the fake vchan-socket-proxy)
 * share: libxenstore reads that free what libxenstore allocated, and one domain's entry
 * of the domain table. Inline here, not a library: the programs are built with and
 * without sanitizers (meson.build), and each takes only what it uses. */
#ifndef XENSIM_SIM_CXX_H
#define XENSIM_SIM_CXX_H

#include "domtable.h"
#include "xen_cxx.h"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace xsim {

struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
};
template <typename T> using Malloced = std::unique_ptr<T, FreeDeleter>;

inline std::optional<std::string> xsRead(xs_handle* xs, const std::string& path,
                                         xs_transaction_t t = XBT_NULL) {
    unsigned len = 0;
    Malloced<char> v(static_cast<char*>(xs_read(xs, t, path.c_str(), &len)));
    if (!v)
        return std::nullopt;
    return std::string(v.get(), len);
}

/* The children of path; none when it is missing or unreadable, as xenstore-ls shows. */
inline std::vector<std::string> xsDirectory(xs_handle* xs, const std::string& path,
                                            xs_transaction_t t = XBT_NULL) {
    unsigned n = 0;
    Malloced<char*> names(xs_directory(xs, t, path.c_str(), &n));
    return names ? std::vector<std::string>(names.get(), names.get() + n)
                 : std::vector<std::string>{};
}

/* A domain as the table holds it, copied out so the table's lock is not held. */
struct TableDomain {
    uint32_t domid = 0;
    uint32_t target = XSIM_NO_TARGET;
    std::string name;
};

/* The domain's entry, or nullopt when it is gone or the table cannot be read. */
inline std::optional<TableDomain> findDomain(const char* dir, uint32_t domid) {
    xsim_table t;
    if (xsim_table_open(&t, dir, 0))
        return std::nullopt;
    std::optional<TableDomain> found;
    xsim_dom d;
    if (xsim_table_get(&t, domid, &d))
        found = TableDomain{d.domid, d.target, d.name};
    xsim_table_close(&t);
    return found;
}

} // namespace xsim

#endif
