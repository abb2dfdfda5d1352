// The simulated host the fake xl acts on ($XENSIM_DIR) and RAII access to its domain
// table.
#pragma once

#include "domtable.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace xensim {

class Host {
public:
    Host(); // fails like xl without a hypervisor when XENSIM_DIR names no host
    const std::string& dir() const { return dir_; }
    std::string path(const std::string& rel) const { return dir_ + "/" + rel; }
    bool fault(const char* name, const std::string& domname, std::string* value = nullptr) const;
    long long setting(const char* name, long long dflt) const;

private:
    std::string dir_;
};

class DomainTable {
public:
    DomainTable(const Host& host, bool exclusive);
    ~DomainTable() { xsim_table_close(&t_); }
    DomainTable(const DomainTable&) = delete;
    DomainTable& operator=(const DomainTable&) = delete;

    xsim_table& get() { return t_; }
    // Copies: the table may change under a reader without the lock.
    std::optional<xsim_dom> find(uint32_t domid);
    std::optional<xsim_dom> find(const std::string& name);
    std::vector<xsim_dom> all();
    // A writer's: the domain's record to change until commit (NULL if it is gone).
    xsim_dom* edit(uint32_t domid) { return xsim_table_edit(&t_, domid); }
    void commit();

private:
    xsim_table t_;
};

// libxl_domain_qualifier_to_domid: digits are a domid (existing or not), anything else
// a name that must exist. Prints xl's message and exits 1 otherwise.
uint32_t findDomain(const Host& host, const std::string& qualifier);
std::optional<uint32_t> domidOfName(const Host& host, const std::string& name);

} // namespace xensim
