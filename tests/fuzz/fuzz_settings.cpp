// stubdomd.json as the daemon parses it (daemon/config/ConfigFile): any text is either
// settings or Error(InvalidConfig) naming the file and what is wrong.
#include "FuzzCheck.hpp"
#include "config/ConfigFile.hpp"

using namespace stubdomd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const Settings settings = parseSettings(fuzz::inputText(data, size), "stubdomd.json");
        if (settings.maxParallelSpawns == 0)
            fuzz::finding("accepted max_parallel_spawns 0");
    } catch (const Error& e) {
        fuzz::expectRefusal(e, {ErrorCode::InvalidConfig}, "parseSettings");
    }
    return 0;
}
