#include "supervisor/ExportsTree.hpp"

#include "loop/UniqueFd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace stubdomd {

namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

std::vector<std::string> splitPath(const std::string& path) {
    std::vector<std::string> parts;
    std::string part;
    for (char c : path + "/") {
        if (c != '/') {
            part += c;
        } else if (!part.empty()) {
            parts.push_back(part);
            part.clear();
        }
    }
    return parts;
}

std::string readLinkAt(int dir, const std::string& name, int& err) {
    std::string buffer(4096, '\0');
    const ssize_t n = readlinkat(dir, name.c_str(), buffer.data(), buffer.size());
    if (n < 0) {
        err = errno;
        return {};
    }
    err = 0;
    buffer.resize(static_cast<std::size_t>(n));
    return buffer;
}

// Why `path` (an entry in `dir`) is not the directory the walk needs.
std::string notADirectory(int dir, const std::string& name, const std::string& path) {
    int err = 0;
    const std::string target = readLinkAt(dir, name, err);
    if (err == 0)
        return "refusing " + path + ": it is a symbolic link (to " + target +
               "), not a directory; nothing is followed through links inside the exports "
               "tree, remove it";
    return "refusing " + path + ": it exists and is not a directory";
}

// Opens (making it first if needed) the directory `name` inside `dir`.
UniqueFd openDirectory(int dir, const std::string& name, const std::string& path,
                       ExportsReport& report) {
    if (mkdirat(dir, name.c_str(), 0755) == 0)
        report.created.push_back(path);
    else if (errno != EEXIST) {
        report.problems.push_back("cannot create " + path + ": " + std::strerror(errno));
        return {};
    }
    UniqueFd fd(openat(dir, name.c_str(), kDirFlags));
    if (!fd) {
        if (errno == ELOOP || errno == ENOTDIR)
            report.problems.push_back(notADirectory(dir, name, path));
        else
            report.problems.push_back("cannot open " + path + ": " + std::strerror(errno));
    }
    return fd;
}

void placeLink(int rootFd, const std::string& root, const ExportLink& link, ExportsReport& report) {
    const std::vector<std::string> parts = splitPath(link.name);
    if (parts.empty()) {
        report.problems.push_back("an export link needs a name below " + root);
        return;
    }
    UniqueFd parent(fcntl(rootFd, F_DUPFD_CLOEXEC, 0));
    std::string path = root;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        if (parts[i] == "..") {
            report.problems.push_back("refusing " + link.name + ": '..' leaves the exports tree");
            return;
        }
        path += "/" + parts[i];
        parent = openDirectory(parent.get(), parts[i], path, report);
        if (!parent)
            return;
    }
    const std::string& leaf = parts.back();
    path += "/" + leaf;
    if (symlinkat(link.target.c_str(), parent.get(), leaf.c_str()) == 0) {
        report.created.push_back(path);
    } else if (errno != EEXIST) {
        report.problems.push_back("cannot create " + path + ": " + std::strerror(errno));
        return;
    } else {
        int err = 0;
        const std::string existing = readLinkAt(parent.get(), leaf, err);
        if (err == EINVAL)
            report.problems.push_back(path + " exists and is not a symbolic link to " +
                                      link.target + "; left alone");
        else if (err != 0)
            report.problems.push_back("cannot read " + path + ": " + std::strerror(err));
        else if (existing != link.target)
            report.problems.push_back(path + " points to " + existing + ", not to " + link.target +
                                      "; left alone");
        if (err != 0 || existing != link.target)
            return;
    }
    struct stat st;
    if (stat(link.target.c_str(), &st) != 0)
        report.warnings.push_back(path + " points to " + link.target +
                                  ", which does not exist (yet): " + std::strerror(errno));
}

} // namespace

std::vector<ExportLink> readmeExports(const std::string& keymapsDir, const std::string& xenLibDir) {
    return {{"usr/share/xen/qemu/keymaps", keymapsDir}, {"var/lib/xen", xenLibDir}};
}

ExportsReport prepareExports(const std::string& root, const std::vector<ExportLink>& links) {
    ExportsReport report;
    if (mkdir(root.c_str(), 0755) == 0)
        report.created.push_back(root);
    else if (errno != EEXIST) {
        report.problems.push_back("cannot create " + root + ": " + std::strerror(errno));
        return report;
    }
    UniqueFd rootFd(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!rootFd) {
        report.problems.push_back("cannot open " + root + ": " + std::strerror(errno));
        return report;
    }
    for (const ExportLink& link : links)
        placeLink(rootFd.get(), root, link, report);
    return report;
}

} // namespace stubdomd
