// The xl subcommands the simulated toolstack implements, each with real xl's command
// line, output and exit status. args[0] is the subcommand.
#pragma once

#include "Host.h"
#include "XenStore.h"

#include <cstdint>
#include <string>
#include <vector>

namespace xensim {

using Args = std::vector<std::string>;

int mainCreate(const Args& args);
int mainDestroy(const Args& args);
int mainList(const Args& args);
int mainDomid(const Args& args);
int mainPause(const Args& args);
int mainUnpause(const Args& args);

// What libxl does to destroy a domain (its stub domain first, then the device model,
// the xenstore tree and finally the domain); shared by destroy and a failed create.
void destroyDomain(const Host& host, XenStore& xs, uint32_t domid);

} // namespace xensim
