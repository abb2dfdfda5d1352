// Client: Manager.PvGrubConfig and Manager.PvGrubCheck.
#include "ClientImpl.hpp"

namespace stubdom {

namespace names = stubdomd::dbus;

namespace {

using Dict = std::map<std::string, sdbus::Variant>;

using detail::take;

std::vector<PvGrubImage> images(const Dict& dict) {
    std::vector<sdbus::Struct<std::string, std::string, std::string, bool>> entries;
    take(dict, "images", entries);
    std::vector<PvGrubImage> list;
    for (const auto& entry : entries)
        list.push_back({entry.get<0>(), entry.get<1>(), entry.get<2>(), entry.get<3>()});
    return list;
}

} // namespace

PvGrubConfig Client::pvGrubConfig(const PvGrubRequest& request) {
    Dict options;
    detail::putIfSet(options, "arch", request.arch);
    detail::putIfSet(options, "guest_kernel", request.guestKernel);
    detail::putIfSet(options, "menu", request.menu);
    detail::putIfSet(options, "loader", request.loader);
    detail::putIfSet(options, "image", request.image);
    auto reply =
        impl_->call(names::kManagerPath, names::kManagerInterface, "PvGrubConfig", {}, options);
    Dict dict;
    reply >> dict;
    PvGrubConfig config;
    take(dict, "kernel", config.kernel);
    take(dict, "extra", config.extra);
    take(dict, "kernel_line", config.kernelLine);
    take(dict, "extra_line", config.extraLine);
    take(dict, "arch", config.arch);
    take(dict, "arch_source", config.archSource);
    take(dict, "loader", config.loader);
    take(dict, "image_installed", config.imageInstalled);
    take(dict, "menu_source", config.menuSource);
    take(dict, "warnings", config.warnings);
    config.images = images(dict);
    return config;
}

PvGrubReport Client::pvGrubCheck(const std::string& path) {
    auto reply =
        impl_->call(names::kManagerPath, names::kManagerInterface, "PvGrubCheck", {}, path);
    Dict dict;
    reply >> dict;
    PvGrubReport report;
    take(dict, "path", report.path);
    take(dict, "name", report.name);
    take(dict, "ok", report.ok);
    take(dict, "pv_grub", report.pvGrub);
    take(dict, "kernel", report.kernel);
    take(dict, "loader", report.loader);
    take(dict, "image_installed", report.imageInstalled);
    take(dict, "image_arch", report.imageArch);
    take(dict, "image_arch_source", report.imageArchSource);
    take(dict, "extra", report.extra);
    take(dict, "menu_source", report.menuSource);
    take(dict, "menu", report.menu);
    std::vector<sdbus::Struct<std::string, std::string>> problems;
    take(dict, "problems", problems);
    for (const auto& problem : problems)
        report.problems.push_back({problem.get<0>(), problem.get<1>()});
    take(dict, "warnings", report.warnings);
    report.images = images(dict);
    return report;
}

} // namespace stubdom
