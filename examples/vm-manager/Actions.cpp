#include "Actions.hpp"

#include <stubdom-client/Client.hpp>

#include <gio/gio.h>

#include <memory>

namespace vmmanager {

namespace {

struct Job {
    Action action;
    std::string guest;
    std::function<void(const std::string&)> done;
    std::string error; // written by the worker, read on the main loop after it finished
};

void work(GTask*, gpointer, gpointer data, GCancellable*) {
    auto* job = static_cast<Job*>(data);
    try {
        stubdom::Client client; // this thread's own connection to the system bus
        switch (job->action) {
        case Action::Start:
            client.start(job->guest);
            break;
        case Action::Stop:
            client.stop(job->guest);
            break;
        case Action::Restart:
            client.restart(job->guest);
            break;
        }
    } catch (const std::exception& e) {
        job->error = errorText(e);
    }
}

void finished(GObject*, GAsyncResult* result, gpointer) {
    auto* job = static_cast<Job*>(g_task_get_task_data(G_TASK(result)));
    job->done(job->error);
}

} // namespace

std::string errorText(const std::exception& error) {
    const auto* typed = dynamic_cast<const stubdom::Error*>(&error);
    if (!typed)
        return error.what();
    const auto& name = typed->name();
    return typed->message() + " (" + name.substr(name.rfind('.') + 1) + ")";
}

const char* actionName(Action action) {
    switch (action) {
    case Action::Start:
        return "start";
    case Action::Stop:
        return "stop";
    case Action::Restart:
        return "restart";
    }
    return "?";
}

void runAction(Action action, const std::string& guest,
               std::function<void(const std::string& error)> done) {
    auto job = std::make_unique<Job>(Job{action, guest, std::move(done), {}});
    GTask* task = g_task_new(nullptr, nullptr, finished, nullptr);
    // The task owns the job from here and frees it with itself.
    g_task_set_task_data(task, job.release(),
                         [](gpointer data) { std::unique_ptr<Job>(static_cast<Job*>(data)); });
    g_task_run_in_thread(task, work);
    g_object_unref(task); // the running thread and the callback hold their own references
}

} // namespace vmmanager
