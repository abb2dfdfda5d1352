#include "dbus/server/PvGrubDbus.hpp"

#include "core/Errors.hpp"
#include "core/Excerpt.hpp"

#include <climits>

namespace stubdomd::dbus {

namespace {

using ImageEntry = sdbus::Struct<std::string, std::string, std::string, bool>;

std::vector<ImageEntry> toEntries(const std::vector<pvgrub::ImageStatus>& images) {
    std::vector<ImageEntry> entries;
    for (const auto& image : images)
        entries.emplace_back(image.path, std::string(toString(image.loader)),
                             std::string(toString(image.arch)), image.installed);
    return entries;
}

// The daemon's working directory is /, not the caller's: a relative path would name
// some other file than the caller means. A path longer than PATH_MAX names no file, and
// paths come back in replies (kernel, kernel_line): one near the bus's message limit
// would make a reply the bus refuses.
void checkPath(const std::string& what, const std::string& path) {
    if (path.empty() || path.front() != '/')
        throw Error(ErrorCode::InvalidArgs,
                    what + " must be an absolute path, not '" + excerpt(path) + "'");
    if (path.size() >= PATH_MAX)
        throw Error(ErrorCode::InvalidArgs, what + " is " + std::to_string(path.size()) +
                                                " bytes long; no path is longer than " +
                                                std::to_string(PATH_MAX - 1) + " ('" +
                                                excerpt(path) + "')");
}

std::string absolutePath(const Options& options, const char* key) {
    auto found = options.find(key);
    if (found == options.end())
        return {};
    std::string path = found->second.get<std::string>();
    checkPath(std::string("PvGrubConfig: option '") + key + "'", path);
    return path;
}

} // namespace

const std::vector<OptionSpec>& pvGrubConfigOptions() {
    static const std::vector<OptionSpec> keys{
        {"arch", "s"}, {"guest_kernel", "s"}, {"menu", "s"}, {"loader", "s"}, {"image", "s"}};
    return keys;
}

pvgrub::ConfigRequest pvGrubConfigRequest(const Options& options) {
    checkOptions("PvGrubConfig", options, pvGrubConfigOptions());
    pvgrub::ConfigRequest request;
    if (auto arch = options.find("arch"); arch != options.end()) {
        const std::string text = arch->second.get<std::string>();
        request.arch = pvgrub::archFromString(text);
        if (!request.arch)
            throw Error(ErrorCode::InvalidArgs,
                        "PvGrubConfig: option 'arch' must be x86_32 or x86_64, not '" +
                            excerpt(text) + "'");
    }
    if (auto loader = options.find("loader"); loader != options.end()) {
        const std::string text = loader->second.get<std::string>();
        request.loader = pvgrub::loaderFromString(text);
        if (!request.loader)
            throw Error(ErrorCode::InvalidArgs,
                        "PvGrubConfig: option 'loader' must be pv-grub or grub2, not '" +
                            excerpt(text) + "'");
    }
    if (auto menu = options.find("menu"); menu != options.end())
        request.menu = menu->second.get<std::string>();
    request.guestKernel = absolutePath(options, "guest_kernel");
    request.image = absolutePath(options, "image");
    return request;
}

Dict toDict(const pvgrub::ConfigResult& result) {
    Dict dict;
    dict["kernel"] = sdbus::Variant(result.image);
    dict["extra"] = sdbus::Variant(result.extra);
    dict["kernel_line"] = sdbus::Variant(result.kernelLine());
    dict["extra_line"] = sdbus::Variant(result.extraLine());
    dict["arch"] = sdbus::Variant(std::string(toString(result.arch)));
    dict["arch_source"] = sdbus::Variant(result.archSource);
    dict["loader"] = sdbus::Variant(std::string(toString(result.loader)));
    dict["image_installed"] = sdbus::Variant(result.imageInstalled);
    dict["menu_source"] = sdbus::Variant(
        result.loader == pvgrub::Loader::Grub2 ? "" : std::string(toString(result.menuSource)));
    dict["warnings"] = sdbus::Variant(result.warnings);
    dict["images"] = sdbus::Variant(toEntries(result.images));
    return dict;
}

void checkPvGrubPath(const std::string& path) {
    checkPath("PvGrubCheck: the path", path);
}

Dict toDict(const pvgrub::CheckReport& report) {
    Dict dict;
    dict["path"] = sdbus::Variant(report.source);
    dict["name"] = sdbus::Variant(report.name);
    dict["ok"] = sdbus::Variant(report.ok());
    dict["pv_grub"] = sdbus::Variant(report.pvGrub);
    dict["kernel"] = sdbus::Variant(report.kernel);
    dict["loader"] =
        sdbus::Variant(report.loader ? std::string(toString(*report.loader)) : std::string());
    dict["image_installed"] = sdbus::Variant(report.imageInstalled);
    dict["image_arch"] =
        sdbus::Variant(report.imageArch ? std::string(toString(*report.imageArch)) : std::string());
    dict["image_arch_source"] = sdbus::Variant(report.imageArchSource);
    dict["extra"] = sdbus::Variant(report.extra.value_or(""));
    dict["menu_source"] = sdbus::Variant(
        report.menuSource ? std::string(toString(*report.menuSource)) : std::string());
    dict["menu"] = sdbus::Variant(report.menu);
    std::vector<sdbus::Struct<std::string, std::string>> problems;
    for (const auto& problem : report.problems)
        problems.emplace_back(problem.code, problem.message);
    dict["problems"] = sdbus::Variant(problems);
    dict["warnings"] = sdbus::Variant(report.warnings);
    dict["images"] = sdbus::Variant(toEntries(report.images));
    return dict;
}

} // namespace stubdomd::dbus
