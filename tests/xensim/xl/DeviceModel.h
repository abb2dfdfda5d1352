// A device model run in dom0 the way libxl 4.17 runs qemu-traditional
// (libxl__spawn_local_dm): arguments from the guest config, pid recorded in xenstore,
// and create waits until the model reports "running".
#pragma once

#include "GuestSpec.h"
#include "Host.h"
#include "XenStore.h"

#include <string>
#include <sys/types.h>
#include <vector>

namespace xensim {

// libxl__build_device_model_args_old, argv[0] included.
std::vector<std::string> deviceModelArgs(const GuestSpec& spec, uint32_t domid);

// Starts spec.deviceModel for the guest and waits (setting dm-timeout-ms) for
// /local/domain/0/device-model/<domid>/state = running. On failure prints libxl's kind
// of message, kills the model and throws XlError.
pid_t spawnDeviceModel(const Host& host, XenStore& xs, const GuestSpec& spec, uint32_t domid);

} // namespace xensim
