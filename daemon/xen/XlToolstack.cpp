#include "xen/XlToolstack.hpp"

#include <algorithm>
#include <utility>

namespace stubdomd {

XlToolstack::XlToolstack(EventLoop& loop, std::string command, std::chrono::milliseconds timeout,
                         unsigned maxParallel)
    : command_(std::move(command)), timeout_(timeout), maxParallel_(std::max(maxParallel, 1u)),
      runner_(loop) {}

XlToolstack::XlToolstack(EventLoop& loop, const Settings& settings)
    : XlToolstack(loop, settings.toolstack, settings.toolstackTimeout, settings.maxParallelSpawns) {
}

void XlToolstack::create(const std::string& configPath, bool paused, Done done) {
    std::vector<std::string> args{command_, "create"};
    if (paused)
        args.push_back("-p");
    args.push_back(configPath);
    submit(std::move(args), std::move(done));
}

void XlToolstack::domid(const std::string& name, Done done) {
    submit({command_, "domid", name}, std::move(done));
}

void XlToolstack::unpause(DomId domid, Done done) {
    submit({command_, "unpause", std::to_string(domid)}, std::move(done));
}

void XlToolstack::destroy(DomId domid, Done done) {
    submit({command_, "destroy", std::to_string(domid)}, std::move(done));
}

unsigned XlToolstack::running() const {
    return running_;
}

unsigned XlToolstack::queued() const {
    return static_cast<unsigned>(queue_.size());
}

void XlToolstack::submit(std::vector<std::string> args, Done done) {
    queue_.emplace_back(std::move(args), std::move(done));
    startQueued();
}

void XlToolstack::startQueued() {
    while (running_ < maxParallel_ && !queue_.empty()) {
        auto [args, done] = std::move(queue_.front());
        queue_.pop_front();
        ++running_;
        runner_.run(args, timeout_, [this, done = std::move(done)](const ToolResult& result) {
            --running_;
            // The freed slot goes to the queue before `done` can enqueue more: FIFO.
            startQueued();
            if (done)
                done(result);
        });
    }
}

} // namespace stubdomd
