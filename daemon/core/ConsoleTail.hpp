// The last lines a stub domain printed on its console, for the reason of a spawn that
// failed: a Linux stub's init and QEMU say there why they stopped ("stubdom-init: FAIL
// QEMU exited with status 1", QEMU's own "could not load VGA BIOS"), which a reason that
// only says "died while starting" or "did not reach running" would hide.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace stubdomd {

// At most `maxLines` of the last non-empty lines of the file at `path` after its first
// `from` bytes, read from its last `maxBytes`, joined with " | ", control characters
// dropped and the result valid UTF-8. Empty when the file is missing, unreadable or has
// nothing after `from`.
std::string consoleTail(const std::string& path, std::uint64_t from = 0, std::size_t maxLines = 6,
                        std::size_t maxBytes = 4096);

// The last `maxLines` lines of a guest's console log `path`, its rotated `path`.1 first:
// carriage returns and control characters (but tabs) dropped, each line cut to
// `maxLineBytes` and valid UTF-8, as D-Bus strings must be. Empty when neither exists.
std::vector<std::string> lastConsoleLines(const std::string& path, std::size_t maxLines,
                                          std::size_t maxLineBytes = 1024);

// The size of the file at `path`; 0 when it does not exist or cannot be read.
std::uint64_t fileSize(const std::string& path);

} // namespace stubdomd
