// The simulated host's toolstack: xl's command line for what stubdomd and its tests
// use, acting on the simulated host named by XENSIM_DIR. See tests/xensim/README.md.
#include "Commands.h"
#include "XlError.h"

#include <cstdio>
#include <exception>
#include <map>

using namespace xensim;

namespace {

void usage() {
    std::fprintf(stderr, "Usage xl [-v] [-q] <subcommand> [args]\n\n"
                         "xl on a simulated Xen host (xensim); subcommands:\n"
                         " create   Create a domain from config file <filename>\n"
                         " list     List information about all/some domains\n"
                         " destroy  Terminate a domain immediately\n"
                         " pause    Pause execution of a domain\n"
                         " unpause  Unpause a paused domain\n"
                         " domid    Convert a domain name to domain id\n");
}

} // namespace

int main(int argc, char** argv) {
    Args args(argv + 1, argv + argc);
    // xl's global options: verbosity and dry-run/force flags do not change the sim.
    while (!args.empty() &&
           (args[0] == "-v" || args[0] == "-q" || args[0] == "-f" || args[0] == "-t"))
        args.erase(args.begin());
    if (args.empty()) {
        usage();
        return 1;
    }
    static const std::map<std::string, int (*)(const Args&)> commands{
        {"create", mainCreate}, {"destroy", mainDestroy}, {"list", mainList},
        {"domid", mainDomid},   {"pause", mainPause},     {"unpause", mainUnpause},
    };
    auto it = commands.find(args[0]);
    if (it == commands.end()) {
        std::fprintf(stderr, "command not implemented\n");
        usage();
        return 1;
    }
    try {
        return it->second(args);
    } catch (const XlError& e) {
        return e.status;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "xl: %s\n", e.what());
        return 1;
    }
}
