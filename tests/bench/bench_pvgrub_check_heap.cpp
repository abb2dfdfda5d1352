// `meson benchmark pvgrub-check-heap`: the daemon's heap after PvGrubCheck calls on a
// config with a syntax error, with the parse in the daemon's process (as before) and in a
// throwaway process (as now). libxlutil 4.17 loses what it parsed before the error;
// figures are printed, not asserted: the in-process growth is libxlutil's, not ours.
#include "core/Errors.hpp"
#include "pvgrub/PvGrubTool.hpp"
#include "xen/PvGrubConfigReader.hpp"

#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>

using namespace stubdomd;

namespace {

// A lexical error (a byte no token starts with) after a list of two strings: libxlutil
// 4.17 loses the list, 80 bytes a call on amd64.
const std::string kBroken = "name = \"broken\"\n"
                            "kernel = \"/usr/lib/xen/boot/pv-grub-x86_64.gz\"\n"
                            "extra = [ \"(hd0,0)/boot/grub/menu.lst\", \"two\" \xb9 ]\n";

std::size_t heapInUse() {
    return mallinfo2().uordblks;
}

// One call; the syntax error it reports is the point.
void callRefused(const std::function<void()>& call) {
    try {
        call();
        std::fprintf(stderr, "the broken config was accepted\n");
        std::exit(1);
    } catch (const Error&) {
    }
}

void measure(const char* how, int calls, const std::function<void()>& call) {
    callRefused(call); // the first call's one-time allocations (stdio's) are not a loss
    const std::size_t before = heapInUse();
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; ++i)
        callRefused(call);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const long long growth = static_cast<long long>(heapInUse()) - static_cast<long long>(before);
    std::printf("%-34s %6d calls  heap %+9lld bytes (%+.1f per call)  %.1f us per call\n", how,
                calls, growth, static_cast<double>(growth) / calls, seconds * 1e6 / calls);
}

} // namespace

int main() {
    const int calls =
        std::getenv("STUBDOMD_BENCH_CALLS") ? std::atoi(std::getenv("STUBDOMD_BENCH_CALLS")) : 5000;
    char dir[] = "/tmp/stubdomd-bench-XXXXXX";
    if (!::mkdtemp(dir))
        return 1;
    const std::string path = std::string(dir) + "/broken.cfg";
    std::ofstream(path) << kBroken;
    PvGrubTool tool(pvgrub::ImageDirs{dir, dir});

    std::printf("PvGrubCheck of a config with a syntax error (%s):\n", path.c_str());
    measure("parsed in the daemon's process", calls, [&] { parsePvGuestConfig(kBroken, path); });
    measure("parsed in a throwaway process", calls, [&] { tool.check(path, true); });
    ::unlink(path.c_str());
    ::rmdir(dir);
    return 0;
}
