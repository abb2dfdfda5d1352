// The exports tree on a real file system, in a scratch directory.
#include "config/TempDir.hpp"
#include "supervisor/ExportsTree.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

using namespace stubdomd;
namespace fs = std::filesystem;

namespace {

std::string linkOf(const std::string& path) {
    std::error_code ec;
    const auto target = fs::read_symlink(path, ec);
    return ec ? "(not a link)" : target.string();
}

} // namespace

TEST_CASE("the README's tree is made from nothing", "[exports]") {
    test::TempDir dir;
    const std::string root = dir.path() + "/exports";
    const auto report =
        prepareExports(root, readmeExports("/usr/share/xen/qemu/keymaps", "/var/lib/xen"));
    CHECK(report.problems.empty());
    CHECK(linkOf(root + "/usr/share/xen/qemu/keymaps") == "/usr/share/xen/qemu/keymaps");
    CHECK(linkOf(root + "/var/lib/xen") == "/var/lib/xen");
    CHECK(report.created == std::vector<std::string>{
                                root, root + "/usr", root + "/usr/share", root + "/usr/share/xen",
                                root + "/usr/share/xen/qemu", root + "/usr/share/xen/qemu/keymaps",
                                root + "/var", root + "/var/lib", root + "/var/lib/xen"});
    struct stat st;
    REQUIRE(lstat((root + "/usr/share/xen").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0755);
}

TEST_CASE("a tree that is right is left alone", "[exports]") {
    test::TempDir dir;
    const std::string root = dir.path() + "/exports";
    const auto links = readmeExports(dir.path() + "/keymaps", dir.path() + "/xen");
    fs::create_directory(dir.path() + "/keymaps");
    prepareExports(root, links);
    struct stat before;
    REQUIRE(lstat((root + "/var/lib/xen").c_str(), &before) == 0);

    const auto again = prepareExports(root, links);
    CHECK(again.problems.empty());
    CHECK(again.created.empty());
    struct stat after;
    REQUIRE(lstat((root + "/var/lib/xen").c_str(), &after) == 0);
    CHECK(after.st_ino == before.st_ino);
    // Only the link whose target is absent is worth a warning.
    CHECK(again.warnings.size() == 1);
    CHECK_THAT(again.warnings.at(0), Catch::StartsWith(root + "/var/lib/xen points to " +
                                                       dir.path() + "/xen, which does not exist"));
}

TEST_CASE("a wrong entry is reported and not replaced", "[exports]") {
    test::TempDir dir;
    const std::string root = dir.path() + "/exports";
    fs::create_directories(root + "/var/lib");
    fs::create_directories(root + "/usr/share/xen/qemu/keymaps"); // a directory, not a link
    fs::create_directory_symlink("/srv/xen", root + "/var/lib/xen");
    const auto report =
        prepareExports(root, readmeExports("/usr/share/xen/qemu/keymaps", "/var/lib/xen"));
    CHECK(report.problems ==
          std::vector<std::string>{
              root + "/usr/share/xen/qemu/keymaps exists and is not a symbolic link to "
                     "/usr/share/xen/qemu/keymaps; left alone",
              root + "/var/lib/xen points to /srv/xen, not to /var/lib/xen; left alone"});
    CHECK(linkOf(root + "/var/lib/xen") == "/srv/xen");
    CHECK(fs::is_directory(fs::symlink_status(root + "/usr/share/xen/qemu/keymaps")));
}

TEST_CASE("a symlink planted inside the tree is refused and nothing is made through it",
          "[exports]") {
    test::TempDir dir;
    const std::string root = dir.path() + "/exports";
    const std::string elsewhere = dir.path() + "/elsewhere";
    fs::create_directories(root + "/usr");
    fs::create_directory(elsewhere);
    fs::create_directory_symlink(elsewhere, root + "/usr/share");
    const auto report =
        prepareExports(root, readmeExports("/usr/share/xen/qemu/keymaps", "/var/lib/xen"));
    REQUIRE(report.problems.size() == 1);
    CHECK(report.problems[0] ==
          "refusing " + root + "/usr/share: it is a symbolic link (to " + elsewhere +
              "), not a directory; nothing is followed through links inside the exports tree, "
              "remove it");
    CHECK(fs::is_empty(elsewhere));
    // The other link is still made.
    CHECK(linkOf(root + "/var/lib/xen") == "/var/lib/xen");
}

TEST_CASE("a file where a directory belongs is refused", "[exports]") {
    test::TempDir dir;
    const std::string root = dir.path() + "/exports";
    fs::create_directory(root);
    dir.write("exports/var", "");
    const auto report = prepareExports(root, {{"var/lib/xen", "/var/lib/xen"}});
    CHECK(report.problems ==
          std::vector<std::string>{"refusing " + root + "/var: it exists and is not a directory"});
}

TEST_CASE("a root that cannot be made is a problem naming it", "[exports]") {
    test::TempDir dir;
    const std::string root = dir.path() + "/missing/exports";
    const auto report = prepareExports(root, readmeExports("/a", "/b"));
    CHECK(report.problems ==
          std::vector<std::string>{"cannot create " + root + ": No such file or directory"});
}
