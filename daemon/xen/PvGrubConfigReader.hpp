// Reads a PV guest's xl config (the one `xl create` is given) for the PV-GRUB check,
// with libxlutil like xl itself. Keys read: name, type, builder, kernel, bootloader,
// cmdline, root, extra; everything else is xl's business and ignored.
#pragma once

#include "core/PvGrub.hpp"

#include <string>

namespace stubdomd {

// Throws Error(InvalidConfig): "cannot read PATH: <why>" for a missing, unreadable,
// non-regular or too large (kMaxConfigFileSize) file; libxlutil's "PATH:LINE: ..." for
// a syntax error; "PATH:LINE: 'kernel' must be a string, got a list" and the like.
pvgrub::PvGuestConfig readPvGuestConfig(const std::string& path);
pvgrub::PvGuestConfig parsePvGuestConfig(const std::string& text, const std::string& source);

} // namespace stubdomd
