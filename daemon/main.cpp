// stubdomd: wires the Xen adapters to the core and the core to the D-Bus layer, then
// runs the event loop until SIGTERM.
#include "config/CommandLine.hpp"
#include "core/GuestManager.hpp"
#include "core/HostSleep.hpp"
#include "core/Log.hpp"
#include "dbus/server/DbusServer.hpp"
#include "dbus/server/LogindSleep.hpp"
#include "host/ConsoleBridge.hpp"
#include "host/ConsoleLogger.hpp"
#include "host/DisplayHost.hpp"
#include "host/DisplayRelay.hpp"
#include "host/HostFiles.hpp"
#include "host/JournalLog.hpp"
#include "host/OpenFileLimit.hpp"
#include "host/SystemdNotifier.hpp"
#include "loop/ChildProcess.hpp"
#include "loop/EventLoop.hpp"
#include "pvgrub/PvGrubTool.hpp"
#include "qmp/QmpMonitor.hpp"
#include "supervisor/ExportsTree.hpp"
#include "supervisor/HelperSupervisor.hpp"
#include "xen/XenCtrl.hpp"
#include "xen/XenStore.hpp"
#include "xen/XlConfigReader.hpp"
#include "xen/XlToolstack.hpp"

#include <csignal>
#include <cstring>
#include <memory>
#include <unistd.h>

namespace stubdomd {
namespace {

std::string statusLine(const GuestManager::Counts& c) {
    return std::to_string(c.guests) + " HVM guests, " + std::to_string(c.running) +
           " stub domains running, " + std::to_string(c.paused) + " paused, " +
           std::to_string(c.inProgress) + " in progress, " + std::to_string(c.failed) + " failed";
}

// Makes the exports tree fs-backend serves; "" when it is right, else every problem.
std::string checkExports(const Settings& settings) {
    const ExportsReport report =
        prepareExports(settings.exportsDir, readmeExports(settings.keymapsDir, settings.xenLibDir));
    for (const auto& path : report.created)
        logInfo({}, "exports tree: created " + path);
    for (const auto& warning : report.warnings)
        logWarning({}, "exports tree: " + warning);
    std::string problems;
    for (const auto& problem : report.problems) {
        logError({}, "exports tree: " + problem);
        problems += (problems.empty() ? "" : "; ") + problem;
    }
    return problems.empty() ? problems : "exports tree: " + problems;
}

// The host size the daemon is made for (issue 18's 1000 guests): a limit with less room
// is said at start, not found at the 500th stub domain.
constexpr std::uint64_t stubDomainsPlannedFor = 1000;

void raiseAndReportOpenFileLimit() {
    const OpenFileLimit files = raiseOpenFileLimit();
    if (files.error != 0)
        logWarning({}, "cannot raise the open-file limit from " + std::to_string(files.before) +
                           " to its hard limit " + std::to_string(files.hard) + ": " +
                           std::strerror(files.error));
    else if (files.soft != files.before)
        logInfo({}, "open-file limit raised from " + std::to_string(files.before) + " to " +
                        std::to_string(files.soft) + " (its hard limit)");
    if (files.error == 0 && files.soft < descriptorsFor(stubDomainsPlannedFor)) {
        const std::uint64_t room =
            files.soft > descriptorsFor(0) ? (files.soft - descriptorsFor(0)) / 2 : 0;
        logWarning({}, "the open-file limit is " + std::to_string(files.soft) +
                           " (hard limit): stub domains beyond about " + std::to_string(room) +
                           " will not have their consoles logged or may fail to start; "
                           "raise it (LimitNOFILE= in stubdomd.service)");
    }
}

int run(const Settings& settings) {
    // Before anything holds a descriptor that counts against it.
    raiseAndReportOpenFileLimit();
    ensureDirectory(settings.runtimeDir, 0700);

    EventLoop loop;
    // Before the engine, which holds it as its spawn gate, so that it outlives it.
    ChildLauncher launcher(loop);
    HelperSupervisor helpers(settings.helpers, loop, launcher,
                             [&settings] { return checkExports(settings); });
    ConsoleLogger consoles(loop, settings.stubLogMaxBytes); // before the engine, which holds it
    XenStore store;
    XenCtrl hypervisor;
    XlToolstack toolstack(loop, settings);
    XlConfigReader specs(settings.xenConfigDir, settings.defaultFlavour);
    DisplayHost displays(settings.xenConfigDir, settings.stateDir);
    // Before the engine, which holds it: its proxies outlive every guest's use of them.
    QmpLimits qmpLimits;
    qmpLimits.timeout = settings.qmpTimeout;
    QmpMonitor qmp(loop, {settings.vchanSocketProxy, settings.qmpSocketDir, qmpLimits});
    // Before the engine, which holds it; its relays end with it.
    DisplayRelay displayRelay(loop, settings.qmpTimeout);
    ConsoleBridge consoleBridge(loop);
    auto writeStubConfig = [](const std::string& path, const std::string& content) {
        writeFileAtomically(path, content, 0644);
    };
    auto fileReadable = [](const std::string& path) {
        return access(path.c_str(), R_OK) == 0;
    };
    GuestManager manager(settings, CoreDeps{store, hypervisor, toolstack, loop, specs,
                                            writeStubConfig, processName, fileReadable});
    int exitCode = 0;
    // Without xenstore the daemon is blind; exiting non-zero lets systemd restart it
    // (Restart=on-failure), and the new run adopts what runs.
    store.attach(loop, [&loop, &exitCode](const Error& e) {
        logError({}, std::string("lost the xenstore connection: ") + e.what());
        exitCode = 1;
        loop.stop();
    });
    helpers.start();
    manager.setSpawnGate(helpers);
    manager.setDisplaySources(displays);
    manager.setDeviceModelMonitor(qmp);
    manager.setConsoleLogs(consoles);
    manager.setDisplayLinks(displayRelay);
    manager.setConsoleLinks(consoleBridge);
    manager.start();

    dbus::ServerInfo info{STUBDOMD_VERSION,
                          hypervisor.versionString(),
                          settings.toolstack,
                          {"ioemu", "linux", "attach", "adopt", "helpers", "pv-grub"}};
    PvGrubTool pvGrubTool(pvgrub::ImageDirs{settings.xenBootDir, settings.grubXenDir});
    dbus::DbusServer server(loop, manager, &helpers, std::move(info), &pvGrubTool);
    server.attachToLoop();

    // After the server (it uses its connection), so it goes first.
    std::unique_ptr<HostSleep> hostSleep;
    std::unique_ptr<dbus::LogindSleep> logind;
    if (settings.pauseOnHostSleep) {
        logind = std::make_unique<dbus::LogindSleep>(
            server.bus(), [&hostSleep](bool sleeping) { hostSleep->prepareForSleep(sleeping); },
            [&hostSleep] { hostSleep->sleepManagerStarted(); });
        hostSleep = std::make_unique<HostSleep>(manager, *logind);
        hostSleep->start();
    } else {
        logInfo({}, "pause_on_host_sleep is off: the host sleeps without pausing stub domains");
    }

    SystemdNotifier notifier(loop);
    manager.onCountsChanged([&] { notifier.status(statusLine(manager.counts())); });
    notifier.ready(statusLine(manager.counts()));
    notifier.startWatchdog();
    logInfo({}, "ready: " + statusLine(manager.counts()));

    loop.onSignal([&loop, &manager](int signo) {
        if (signo == SIGHUP) {
            logInfo({}, "SIGHUP: reading the stub-domain configurations again");
            manager.reload();
            return;
        }
        logInfo({}, std::string("stopping on ") + strsignal(signo) +
                        "; stub domains keep running and are adopted on the next start");
        loop.stop();
    });
    loop.run();
    notifier.stopping();
    // Helpers get SIGTERM, then SIGKILL after their stop timeout; the loop runs until
    // they are gone (a second SIGTERM cuts it short: the destructor kills and reaps).
    helpers.shutdown([&loop] { loop.stop(); });
    loop.run();
    return exitCode;
}

} // namespace
} // namespace stubdomd

int main(int argc, char** argv) {
    using namespace stubdomd;
    Startup startup = parseCommandLine(argc, argv);
    if (!startup.settings)
        return startup.exitCode;
    installLogSink();
    try {
        return run(*startup.settings);
    } catch (const Error& e) {
        logError({}, e.what());
    } catch (const std::exception& e) {
        logError({}, e.what());
    }
    return 1;
}
