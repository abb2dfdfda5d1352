// The tree fs-backend serves to stub domains (the stub-domain README's "To run"):
//   <root>/usr/share/xen/qemu/keymaps -> the keymaps directory
//   <root>/var/lib/xen                -> /var/lib/xen
// The link names are where the stub domain looks; their targets are configurable.
//
// Made idempotently and never through a symlink someone planted inside the tree:
// every directory below the root is opened with O_NOFOLLOW | O_DIRECTORY from its
// parent's fd, so a planted `usr/share -> /etc` stops the walk instead of steering
// mkdir/symlink elsewhere. A wrong existing entry is reported, never replaced: it may
// be the administrator's own choice. (The root itself is the administrator's path and
// may be a symlink.)
#pragma once

#include <string>
#include <vector>

namespace stubdomd {

struct ExportLink {
    std::string name;   // relative to the root, e.g. "usr/share/xen/qemu/keymaps"
    std::string target; // what the link points to, e.g. "/usr/share/xen/qemu/keymaps"
};

struct ExportsReport {
    std::vector<std::string> created;  // paths made now
    std::vector<std::string> problems; // each names its path; empty: the tree is right
    std::vector<std::string> warnings; // e.g. a link whose target does not exist (yet)
};

// The README's two links.
std::vector<ExportLink> readmeExports(const std::string& keymapsDir, const std::string& xenLibDir);

// Creates what is missing under `root` (the root too, 0755) and checks what exists.
// Never throws for the tree's content: everything wrong is a problem in the report.
ExportsReport prepareExports(const std::string& root, const std::vector<ExportLink>& links);

} // namespace stubdomd
