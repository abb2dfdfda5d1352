#include "Host.h"

#include "XlError.h"
#include "faults.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace xensim {

Host::Host() {
    const char* dir = std::getenv("XENSIM_DIR");
    if (!dir || !*dir)
        fail(kExitFailure, "xensim: XENSIM_DIR is not set (source DIR/env after `xensim up DIR`)");
    dir_ = dir;
}

bool Host::fault(const char* name, const std::string& domname, std::string* value) const {
    char buf[512];
    bool on = xsim_fault(dir_.c_str(), name, domname.c_str(), buf, sizeof buf);
    if (on && value)
        *value = buf;
    return on;
}

long long Host::setting(const char* name, long long dflt) const {
    return xsim_setting(dir_.c_str(), name, dflt);
}

DomainTable::DomainTable(const Host& host, bool exclusive) {
    if (xsim_table_open(&t_, host.dir().c_str(), exclusive ? 1 : 0))
        fail(kExitFailure,
             "xensim: cannot open the domain table of " + host.dir() + ": " + std::strerror(errno));
}

std::optional<xsim_dom> DomainTable::find(uint32_t domid) {
    xsim_dom d;
    return xsim_table_get(&t_, domid, &d) ? std::optional<xsim_dom>(d) : std::nullopt;
}

std::optional<xsim_dom> DomainTable::find(const std::string& name) {
    xsim_dom d;
    return xsim_table_get_name(&t_, name.c_str(), &d) ? std::optional<xsim_dom>(d) : std::nullopt;
}

std::vector<xsim_dom> DomainTable::all() {
    xsim_host_info info;
    xsim_table_info(&t_, &info);
    // Room for a few more than now; a listing that fills it is read again, larger.
    for (size_t room = info.ndoms + 16;; room *= 2) {
        std::vector<xsim_dom> doms(room);
        doms.resize(xsim_table_list(&t_, 0, doms.data(), room));
        if (doms.size() < room)
            return doms;
    }
}

void DomainTable::commit() {
    if (xsim_table_commit(&t_))
        fail(kExitFailure,
             std::string("xensim: cannot write the domain table: ") + std::strerror(errno));
}

std::optional<uint32_t> domidOfName(const Host& host, const std::string& name) {
    DomainTable table(host, false);
    if (auto d = table.find(name))
        return d->domid;
    return std::nullopt;
}

uint32_t findDomain(const Host& host, const std::string& qualifier) {
    bool digits = !qualifier.empty();
    for (char c : qualifier)
        digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (digits)
        return static_cast<uint32_t>(std::strtoul(qualifier.c_str(), nullptr, 10));
    if (auto domid = domidOfName(host, qualifier))
        return *domid;
    fail(kExitFailure, qualifier + " is an invalid domain identifier (rc=-6)");
}

} // namespace xensim
