#include "Headless.hpp"

#include "Actions.hpp"
#include "DisplayWindow.hpp"

#include <iostream>
#include <sstream>
#include <stdexcept>

namespace vmmanager {

namespace {

const char* changeName(GuestModel::Change change) {
    switch (change) {
    case GuestModel::Change::Added:
        return "added";
    case GuestModel::Change::Changed:
        return "changed";
    case GuestModel::Change::Removed:
        return "removed";
    }
    return "?";
}

// Lines, flushed at once: a test reads them while the program runs.
void say(const std::string& line) {
    std::cout << line << std::endl;
}

} // namespace

void listOnce(GuestModel& model) {
    for (const auto& row : model.rows())
        say(describe(row));
}

Headless::Headless(stubdom::Client& client, GuestModel& model, GMainLoop* loop, bool canShowWindows)
    : client_(client), model_(model), loop_(loop), canShowWindows_(canShowWindows),
      input_(g_io_channel_unix_new(0)) {
    model_.onChange([](GuestModel::Change change, const GuestRow& row) {
        say(std::string(changeName(change)) + " " + describe(row));
    });
    model_.onService([](bool running) { say(running ? "stubdomd started" : "stubdomd stopped"); });
    inputWatch_ = g_io_add_watch(
        input_, static_cast<GIOCondition>(G_IO_IN | G_IO_HUP | G_IO_ERR),
        [](GIOChannel* channel, GIOCondition, gpointer data) -> gboolean {
            auto* self = static_cast<Headless*>(data);
            gchar* line = nullptr;
            gsize length = 0;
            const auto status = g_io_channel_read_line(channel, &line, &length, nullptr, nullptr);
            if (status != G_IO_STATUS_NORMAL) {
                g_free(line);
                self->inputWatch_ = 0;
                g_main_loop_quit(self->loop_); // EOF: whoever drove us is gone
                return G_SOURCE_REMOVE;
            }
            std::string text(line, length);
            g_free(line);
            while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
                text.pop_back();
            self->command(text);
            return G_SOURCE_CONTINUE;
        },
        this);
}

Headless::~Headless() {
    for (auto& [guest, window] : displays_)
        if (window)
            g_object_remove_weak_pointer(G_OBJECT(window), reinterpret_cast<gpointer*>(&window));
    if (inputWatch_)
        g_source_remove(inputWatch_);
    g_io_channel_unref(input_);
    model_.onChange(nullptr);
    model_.onService(nullptr);
}

void Headless::command(const std::string& line) {
    std::istringstream words(line);
    std::string verb, name;
    words >> verb >> name;
    if (verb.empty())
        return;
    if (verb == "quit") {
        g_main_loop_quit(loop_);
    } else if (verb == "list") {
        listOnce(model_);
        say("end of list");
    } else if (verb == "start" || verb == "stop" || verb == "restart") {
        const Action action = verb == "start"  ? Action::Start
                              : verb == "stop" ? Action::Stop
                                               : Action::Restart;
        runAction(action, name, [verb, name](const std::string& error) {
            say(error.empty() ? "ok " + verb + " " + name
                              : "error " + verb + " " + name + ": " + error);
        });
    } else if (verb == "display") {
        if (!canShowWindows_) {
            say("display " + name + ": error: no display server (set DISPLAY, or use xvfb-run)");
            return;
        }
        try {
            GtkWidget*& slot = displays_[name];
            if (slot)
                g_object_remove_weak_pointer(G_OBJECT(slot), reinterpret_cast<gpointer*>(&slot));
            slot = openDisplayWindow(client_, name,
                                     [](const std::string& guest, const std::string& text) {
                                         say("display " + guest + ": " + text);
                                     });
            g_object_add_weak_pointer(G_OBJECT(slot), reinterpret_cast<gpointer*>(&slot));
        } catch (const std::exception& e) {
            say("display " + name + ": error: " + errorText(e));
        }
    } else if (verb == "screenshot") {
        // What the display window shows (the widget's copy of the guest's screen).
        std::string path;
        words >> path;
        const auto it = displays_.find(name);
        try {
            if (it == displays_.end() || !it->second)
                throw std::runtime_error("no display window open (display " + name + " first)");
            saveDisplayScreen(it->second, path);
            say("screenshot " + name + ": saved " + path);
        } catch (const std::exception& e) {
            say("screenshot " + name + ": error: " + e.what());
        }
    } else {
        say("error " + verb +
            ": unknown command (start, stop, restart, display, screenshot, list, quit)");
    }
}

} // namespace vmmanager
