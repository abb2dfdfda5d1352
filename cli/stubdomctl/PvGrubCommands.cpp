// stubdomctl pvgrub config, pvgrub check: PV guests that boot through PV-GRUB, through
// stubdomd's Manager.PvGrubConfig and Manager.PvGrubCheck.
#include "Context.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>
#include <memory>

namespace stubdomctl {

using stubdom::Client;

namespace {

struct PvGrubArgs {
    std::string arch;
    std::string guestKernel;
    std::string menu;
    std::string loader;
    std::string image;
    std::string config;
    CLI::Option* menuOption = nullptr;
};

// stubdomd runs in /, not here: a relative path would name another file.
std::string absolute(const std::string& path) {
    return path.empty() ? path : std::filesystem::absolute(path).lexically_normal().string();
}

std::optional<std::string> given(const std::string& value) {
    return value.empty() ? std::nullopt : std::optional<std::string>(value);
}

nlohmann::json toJson(const std::vector<stubdom::PvGrubImage>& images) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& image : images)
        list.push_back({{"path", image.path},
                        {"loader", image.loader},
                        {"arch", image.arch},
                        {"installed", image.installed}});
    return list;
}

nlohmann::json toJson(const stubdom::PvGrubConfig& c) {
    return {{"kernel", c.kernel},
            {"extra", c.extra},
            {"kernel_line", c.kernelLine},
            {"extra_line", c.extraLine},
            {"arch", c.arch},
            {"arch_source", c.archSource},
            {"loader", c.loader},
            {"image_installed", c.imageInstalled},
            {"menu_source", c.menuSource},
            {"warnings", c.warnings},
            {"images", toJson(c.images)}};
}

nlohmann::json toJson(const stubdom::PvGrubReport& r) {
    nlohmann::json problems = nlohmann::json::array();
    for (const auto& problem : r.problems)
        problems.push_back({{"code", problem.code}, {"message", problem.message}});
    return {{"path", r.path},
            {"name", r.name},
            {"ok", r.problems.empty()},
            {"pv_grub", r.pvGrub},
            {"kernel", r.kernel},
            {"loader", r.loader},
            {"image_installed", r.imageInstalled},
            {"image_arch", r.imageArch},
            {"image_arch_source", r.imageArchSource},
            {"extra", r.extra},
            {"menu_source", r.menuSource},
            {"menu", r.menu},
            {"problems", problems},
            {"warnings", r.warnings},
            {"images", toJson(r.images)}};
}

void addBitnessOptions(CLI::App* command, PvGrubArgs& args) {
    command->add_option("--arch", args.arch, "The guest kernel's architecture")
        ->check(CLI::IsMember({"x86_32", "x86_64"}));
    command
        ->add_option("--guest-kernel", args.guestKernel,
                     "Read the bitness from this kernel (plain or gzip'ed ELF, bzImage)")
        ->type_name("PATH");
}

int runConfig(Client& client, const Context& context, const PvGrubArgs& args) {
    stubdom::PvGrubRequest request;
    request.arch = given(args.arch);
    request.guestKernel = given(absolute(args.guestKernel));
    if (args.menuOption->count())
        request.menu = args.menu;
    request.loader = given(args.loader);
    request.image = given(absolute(args.image));
    const stubdom::PvGrubConfig config = client.pvGrubConfig(request);
    if (context.json) {
        std::cout << toJson(config).dump() << '\n';
        return 0;
    }
    std::cout << config.kernelLine << '\n' << config.extraLine << '\n';
    for (const auto& warning : config.warnings)
        std::cerr << "stubdomctl: warning: " << warning << '\n';
    return 0;
}

int runCheck(Client& client, const Context& context, const PvGrubArgs& args) {
    stubdom::PvGrubReport report = client.pvGrubCheck(absolute(args.config));
    // The guest's own kernel is on its disk: the bitness match needs it named here, and
    // PvGrubConfig with the config's image says whether they agree.
    if (report.pvGrub && (!args.arch.empty() || !args.guestKernel.empty())) {
        stubdom::PvGrubRequest request;
        request.arch = given(args.arch);
        request.guestKernel = given(absolute(args.guestKernel));
        request.image = report.kernel;
        try {
            client.pvGrubConfig(request);
        } catch (const stubdom::InvalidConfig& e) {
            report.problems.push_back({"arch-mismatch", e.message()});
        }
    }
    report.ok = report.problems.empty();
    if (context.json) {
        std::cout << toJson(report).dump() << '\n';
        return report.ok ? 0 : 1;
    }
    std::cout << report.path << ": ";
    if (report.pvGrub) {
        std::cout << "boots through " << report.loader << " (" << report.kernel << ", "
                  << (report.imageArch.empty() ? "bitness unknown" : report.imageArch) << ", "
                  << (report.imageInstalled ? "installed" : "not installed") << ")\n";
        if (!report.menu.empty())
            std::cout << "  menu: " << report.menu << '\n';
    } else {
        std::cout << "does not boot through PV-GRUB\n";
    }
    for (const auto& problem : report.problems)
        std::cout << "  problem (" << problem.code << "): " << problem.message << '\n';
    for (const auto& warning : report.warnings)
        std::cout << "  warning: " << warning << '\n';
    if (report.ok)
        std::cout << "  ok\n";
    return report.ok ? 0 : 1;
}

} // namespace

void addPvGrubCommands(CLI::App& app, Context& context) {
    auto args = std::make_shared<PvGrubArgs>();
    auto* pvgrub = app.add_subcommand(
        "pvgrub", "PV guests booting through PV-GRUB: their kernel and extra lines, checked");
    pvgrub->require_subcommand(1);

    auto* config = pvgrub->add_subcommand(
        "config", "Print the kernel = and extra = lines of a PV guest booting through PV-GRUB");
    addBitnessOptions(config, *args);
    args->menuOption = config->add_option(
        "--menu", args->menu,
        "Menu location: (hdN[,M])/path on the guest's disk, (nd)/path over TFTP, or empty "
        "for DHCP option 150 (the default)");
    config->add_option("--loader", args->loader, "pv-grub (Xen's images, default) or grub2")
        ->check(CLI::IsMember({"pv-grub", "grub2"}));
    config->add_option("--image", args->image, "A PV-GRUB image by path, e.g. pv-grub.gz")
        ->type_name("PATH");
    config->callback([&context, args] {
        if (args->arch.empty() && args->guestKernel.empty())
            throw CLI::ValidationError("pvgrub config", "give --arch or --guest-kernel");
        context.doing = "generate the PV-GRUB configuration";
        context.run = [&context, args](Client& client) {
            return runConfig(client, context, *args);
        };
    });

    auto* check = pvgrub->add_subcommand(
        "check", "Check a PV guest's xl config for booting through PV-GRUB (exit 1: problems)");
    check->add_option("config", args->config, "The guest's xl config file")->required();
    addBitnessOptions(check, *args);
    check->callback([&context, args] {
        context.doing = "check " + args->config;
        context.run = [&context, args](Client& client) {
            return runCheck(client, context, *args);
        };
    });
}

} // namespace stubdomctl
