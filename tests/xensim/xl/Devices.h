// The frontend/backend xenstore nodes libxl writes for a domain's devices
// (libxl__device_generic_add), with dom0 as the backend domain.
#pragma once

#include "GuestSpec.h"
#include "XenStore.h"

#include <cstdint>

namespace xensim {

void addDevices(XenStore& xs, uint32_t domid, const GuestSpec& spec);
// Removes every backend directory dom0 holds for the domain (libxl__devices_destroy).
void removeBackends(XenStore& xs, uint32_t domid);

} // namespace xensim
