// The same model and actions without a window, for scripts and for the project's tests:
// every row is printed as it changes, and commands are read from standard input.
#pragma once

#include "GuestModel.hpp"

#include <stubdom-client/Client.hpp>

#include <gtk/gtk.h>

#include <map>
#include <string>

namespace vmmanager {

// Prints the rows once (after Client::watch) and returns.
void listOnce(GuestModel& model);

// Prints "added|changed|removed ROW" lines as signals arrive and runs the commands of stdin,
// one a line: "start NAME", "stop NAME", "restart NAME", "display NAME" (the display window,
// so a display server is needed: xvfb-run in the tests), "screenshot NAME FILE.png" (what
// that window shows), "list", "quit". Results come as "ok ACTION NAME", "error ACTION NAME:
// …", "display NAME: …", "screenshot NAME: …". Ends at "quit" or EOF.
class Headless {
public:
    Headless(stubdom::Client& client, GuestModel& model, GMainLoop* loop, bool canShowWindows);
    ~Headless();
    Headless(const Headless&) = delete;
    Headless& operator=(const Headless&) = delete;

private:
    void command(const std::string& line);

    stubdom::Client& client_;
    GuestModel& model_;
    GMainLoop* loop_;
    bool canShowWindows_;
    GIOChannel* input_;
    guint inputWatch_;
    // The display windows opened here, by guest; GTK owns them, and clears these weak
    // pointers when a window goes.
    std::map<std::string, GtkWidget*> displays_;
};

} // namespace vmmanager
