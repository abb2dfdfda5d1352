// The main window: the guest list (one row per guest of the GuestModel, updated as its
// signals arrive), the buttons that act on the selected guest, and a status line.
#pragma once

#include "GuestModel.hpp"

#include <stubdom-client/Client.hpp>

#include <gtk/gtk.h>

#include <string>

namespace vmmanager {

class ManagerWindow {
public:
    // Listens to `model` (which must outlive it); `client` opens the displays.
    ManagerWindow(stubdom::Client& client, GuestModel& model);
    ~ManagerWindow();
    ManagerWindow(const ManagerWindow&) = delete;
    ManagerWindow& operator=(const ManagerWindow&) = delete;

    GtkWidget* widget() const { return window_; }
    void status(const std::string& text);

private:
    enum Column { kPath, kName, kState, kStubDomid, kStubMemory, kDisplay, kColumns };

    void update(GuestModel::Change change, const GuestRow& row);
    bool findRow(const std::string& path, GtkTreeIter* iter) const;
    std::string selectedPath() const;
    void updateButtons();
    void act(int action);
    void openDisplay();

    stubdom::Client& client_;
    GuestModel& model_;
    GtkWidget* window_;
    GtkListStore* store_;
    GtkWidget* view_;
    GtkWidget* start_;
    GtkWidget* stop_;
    GtkWidget* restart_;
    GtkWidget* display_;
    GtkWidget* status_;
};

} // namespace vmmanager
