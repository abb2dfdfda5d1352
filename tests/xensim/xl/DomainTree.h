// A domain's own xenstore tree as libxl 4.17 writes it (libxl__domain_make and
// libxl__build_post) and removes it again (devices_destroy_cb).
#pragma once

#include "GuestSpec.h"
#include "XenStore.h"

#include <cstdint>

namespace xensim {

// The event channel and ring frame xenstored is told about on INTRODUCE; any value
// works on the sim since nothing is mapped for real.
constexpr unsigned kStorePort = 1;
constexpr unsigned long kStoreMfn = 0xfefff;

// libxl__domain_make's transaction: the directories, name, vm, uuid. The domain is listed
// by the hypervisor from here on, without its memory nodes.
void makeDomainTree(XenStore& xs, uint32_t domid, const GuestSpec& spec);
// libxl__build_post's transaction: memory, domid, store, cpus, platform, image; the
// toolstack introduces the domain to xenstored right after it.
void finishDomainTree(XenStore& xs, uint32_t domid, const GuestSpec& spec);
void removeDomainTree(XenStore& xs, uint32_t domid);

} // namespace xensim
