#include "Commands.h"

#include "XlError.h"

#include "sim_cxx.h"
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

namespace xensim {

namespace {

void printHeader() {
    std::printf("Name                                        ID   Mem VCPUs\tState\tTime(s)\n");
}

// libxl_domid_to_name reads the name from xenstore; the table's copy stands in when
// the node is gone (a domain being torn down).
std::string nameOf(xs_handle* xsh, const xsim_dom& d) {
    if (xsh) {
        if (auto name = xsim::xsRead(xsh, "/local/domain/" + std::to_string(d.domid) + "/name"))
            return *name;
    }
    return d.name;
}

void printDomain(xs_handle* xsh, const xsim_dom& d) {
    static const char reasons[] = "-rscwS";
    bool shutdown = d.flags & XSIM_F_SHUTDOWN;
    unsigned reason = shutdown ? d.shutdown_reason : 0;
    bool paused = d.flags & XSIM_F_PAUSED;
    bool active = !(d.flags & (XSIM_F_PAUSED | XSIM_F_SHUTDOWN | XSIM_F_DYING));
    std::printf("%-40s %5u %5lu %5u     %c%c%c%c%c%c  %8.1f\n", nameOf(xsh, d).c_str(), d.domid,
                static_cast<unsigned long>(d.mem_kib / 1024), d.vcpus,
                active && d.domid == 0 ? 'r' : '-', active && d.domid != 0 ? 'b' : '-',
                paused ? 'p' : '-', shutdown ? 's' : '-',
                reason < sizeof reasons - 1 ? reasons[reason] : '?',
                (d.flags & XSIM_F_DYING) ? 'd' : '-', 0.0);
}

} // namespace

int mainList(const Args& args) {
    Host host;
    std::unique_ptr<xs_handle, decltype(&xs_close)> xsh(xs_open(0), &xs_close);
    if (args.size() > 2)
        fail(2, "Usage: xl list [options] [Domain]");
    std::vector<xsim_dom> doms;
    if (args.size() == 2) {
        // One domain costs one lookup, however many there are.
        uint32_t domid = findDomain(host, args[1]);
        auto d = DomainTable(host, false).find(domid);
        if (!d)
            fail(kExitFailure, "Error: Domain '" + args[1] + "' does not exist.");
        doms = {*d};
    } else {
        doms = DomainTable(host, false).all();
    }
    printHeader();
    for (const auto& d : doms)
        printDomain(xsh.get(), d);
    return 0;
}

int mainDomid(const Args& args) {
    Host host;
    if (args.size() != 2)
        fail(2, "Usage: xl domid <DomainName>");
    auto domid = domidOfName(host, args[1]);
    if (!domid)
        fail(kExitFailure,
             "Can't get domid of domain name '" + args[1] + "', maybe this domain does not exist.");
    std::printf("%u\n", *domid);
    return 0;
}

} // namespace xensim
