// The few dom0 files the daemon touches directly: generated stub configs, its
// runtime directory, and /proc for the "device model already in dom0" check.
#pragma once

#include <string>

namespace stubdomd {

// Creates the directory and its parents (mode 0755 for parents, `mode` for the last).
// Throws Error(Internal) naming the path.
void ensureDirectory(const std::string& path, unsigned mode);
// Writes to a temporary file beside `path`, flushes it and renames it over, so no
// reader (xl, the next run) sees a half-written file. The file has `mode` from its
// creation on, whatever the umask, so a secret is never readable even briefly.
// Throws Error(Internal) naming the path.
void writeFileAtomically(const std::string& path, const std::string& content, unsigned mode);
// /proc/<pid>/comm, "" when there is no such process.
std::string processName(long pid);

} // namespace stubdomd
