#include "Commands.h"

#include "XlError.h"
#include "domops.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace xensim {

namespace {

// Real xl ignores what libxl_domain_(un)pause returns: libxl logs the error and xl
// still exits 0. The sim keeps that, so callers must check the domain's state.
int pauseOrUnpause(const Args& args, bool pause) {
    Host host;
    if (args.size() != 2)
        fail(2, "Usage: xl " + args[0] + " <Domain>");
    uint32_t domid = findDomain(host, args[1]);
    int rc = pause ? xsim_dom_pause(host.dir().c_str(), domid)
                   : xsim_dom_unpause(host.dir().c_str(), domid);
    if (rc)
        std::fprintf(stderr, "libxl: error: libxl_domain.c: Domain %u:%s domain: %s\n", domid,
                     pause ? "pausing" : "unpausing", std::strerror(errno));
    return 0;
}

} // namespace

int mainPause(const Args& args) {
    return pauseOrUnpause(args, true);
}
int mainUnpause(const Args& args) {
    return pauseOrUnpause(args, false);
}

} // namespace xensim
