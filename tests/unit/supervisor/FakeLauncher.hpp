// A launcher whose processes exist only in the test: it records starts and signals,
// and the test decides when (and how) each process ends.
#pragma once

#include "loop/HelperLauncher.hpp"

#include <cerrno>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace stubdomd::fakes {

class FakeLauncher : public HelperLauncher {
public:
    struct Process {
        pid_t pid;
        std::string name;
        std::vector<int> signals;
        Exited exited;
        bool alive = true;
    };

    std::map<std::string, int> failWith; // helper name -> errno of its next launches
    std::vector<std::shared_ptr<Process>> launched;
    unsigned killedByDestructor = 0;
    pid_t nextPid = 1000;

    std::unique_ptr<HelperProcess> launch(const HelperSettings& helper, Exited exited) override {
        if (auto it = failWith.find(helper.name); it != failWith.end())
            throw LaunchError(it->second, "cannot run " + helper.path + ": " +
                                              (it->second == ENOENT ? "No such file or directory"
                                                                    : "Permission denied"));
        auto process = std::make_shared<Process>(Process{nextPid++, helper.name, {}, exited});
        launched.push_back(process);
        return std::make_unique<Handle>(*this, process);
    }

    // The newest process of `name`.
    Process& last(const std::string& name) {
        for (auto it = launched.rbegin(); it != launched.rend(); ++it)
            if ((*it)->name == name)
                return **it;
        throw std::runtime_error("no process of " + name);
    }
    unsigned starts(const std::string& name) const {
        unsigned n = 0;
        for (const auto& p : launched)
            n += p->name == name;
        return n;
    }
    // The process ends; the supervisor hears of it as from the loop.
    void exit(const std::string& name, const std::string& how = "exited with status 1") {
        Process& p = last(name);
        p.alive = false;
        auto exited = p.exited;
        exited(how);
    }

private:
    class Handle : public HelperProcess {
    public:
        Handle(FakeLauncher& launcher, std::shared_ptr<Process> p)
            : launcher_(launcher), p_(std::move(p)) {}
        ~Handle() override {
            if (p_->alive) {
                p_->alive = false;
                ++launcher_.killedByDestructor;
            }
        }
        pid_t pid() const override { return p_->pid; }
        void signal(int signo) override { p_->signals.push_back(signo); }

    private:
        FakeLauncher& launcher_;
        std::shared_ptr<Process> p_;
    };
};

} // namespace stubdomd::fakes
