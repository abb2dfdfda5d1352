#include "ManagerWindow.hpp"

#include "Actions.hpp"
#include "DisplayWindow.hpp"

namespace vmmanager {

namespace {

GtkWidget* button(const char* label, GCallback clicked, gpointer data) {
    GtkWidget* b = gtk_button_new_with_mnemonic(label);
    g_signal_connect_swapped(b, "clicked", clicked, data);
    return b;
}

void addColumn(GtkWidget* view, const char* title, int column) {
    gtk_tree_view_append_column(GTK_TREE_VIEW(view),
                                gtk_tree_view_column_new_with_attributes(
                                    title, gtk_cell_renderer_text_new(), "text", column, nullptr));
}

} // namespace

ManagerWindow::ManagerWindow(stubdom::Client& client, GuestModel& model)
    : client_(client), model_(model), window_(gtk_window_new(GTK_WINDOW_TOPLEVEL)),
      store_(gtk_list_store_new(kColumns, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING,
                                G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING)),
      view_(gtk_tree_view_new_with_model(GTK_TREE_MODEL(store_))) {
    // The window holds the only reference we keep to it (a toplevel is owned by GTK).
    g_object_ref(window_);
    gtk_window_set_title(GTK_WINDOW(window_), "stubdomd guests");
    gtk_window_set_default_size(GTK_WINDOW(window_), 560, 300);

    addColumn(view_, "Name", kName);
    addColumn(view_, "State", kState);
    addColumn(view_, "Stub domid", kStubDomid);
    addColumn(view_, "Stub memory", kStubMemory);
    addColumn(view_, "Display", kDisplay);
    // Sorted by name, as GuestModel::rows() is, whatever order the signals came in.
    gtk_tree_sortable_set_sort_column_id(GTK_TREE_SORTABLE(store_), kName, GTK_SORT_ASCENDING);
    g_signal_connect_swapped(gtk_tree_view_get_selection(GTK_TREE_VIEW(view_)), "changed",
                             G_CALLBACK(+[](ManagerWindow* w) { w->updateButtons(); }), this);
    g_signal_connect_swapped(view_, "row-activated",
                             G_CALLBACK(+[](ManagerWindow* w) { w->openDisplay(); }), this);

    start_ = button("_Start",
                    G_CALLBACK(+[](ManagerWindow* w) { w->act(static_cast<int>(Action::Start)); }),
                    this);
    stop_ =
        button("S_top",
               G_CALLBACK(+[](ManagerWindow* w) { w->act(static_cast<int>(Action::Stop)); }), this);
    restart_ = button(
        "_Restart",
        G_CALLBACK(+[](ManagerWindow* w) { w->act(static_cast<int>(Action::Restart)); }), this);
    display_ =
        button("Open _display", G_CALLBACK(+[](ManagerWindow* w) { w->openDisplay(); }), this);
    status_ = gtk_label_new("");
    gtk_label_set_xalign(GTK_LABEL(status_), 0);
    gtk_label_set_ellipsize(GTK_LABEL(status_), PANGO_ELLIPSIZE_END);

    GtkWidget* buttons = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    for (GtkWidget* b : {start_, stop_, restart_, display_})
        gtk_box_pack_start(GTK_BOX(buttons), b, FALSE, FALSE, 0);
    GtkWidget* scrolled = gtk_scrolled_window_new(nullptr, nullptr);
    gtk_container_add(GTK_CONTAINER(scrolled), view_);
    GtkWidget* box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    gtk_container_set_border_width(GTK_CONTAINER(box), 6);
    gtk_box_pack_start(GTK_BOX(box), scrolled, TRUE, TRUE, 0);
    gtk_box_pack_start(GTK_BOX(box), buttons, FALSE, FALSE, 0);
    gtk_box_pack_start(GTK_BOX(box), status_, FALSE, FALSE, 0);
    gtk_container_add(GTK_CONTAINER(window_), box);

    model_.onChange(
        [this](GuestModel::Change change, const GuestRow& row) { update(change, row); });
    model_.onService([this](bool running) {
        status(running ? "stubdomd is back" : "stubdomd is not running; waiting for it");
    });
    updateButtons();
}

ManagerWindow::~ManagerWindow() {
    model_.onChange(nullptr);
    model_.onService(nullptr);
    g_object_unref(store_);
    gtk_widget_destroy(window_);
    g_object_unref(window_);
}

void ManagerWindow::status(const std::string& text) {
    gtk_label_set_text(GTK_LABEL(status_), text.c_str());
}

void ManagerWindow::update(GuestModel::Change change, const GuestRow& row) {
    GtkTreeIter iter;
    const bool known = findRow(row.path, &iter);
    if (change == GuestModel::Change::Removed) {
        if (known)
            gtk_list_store_remove(store_, &iter);
    } else {
        if (!known)
            gtk_list_store_append(store_, &iter);
        const std::string stub = row.stubDomid ? std::to_string(row.stubDomid) : "—";
        const std::string memory =
            row.stubMemoryMiB ? std::to_string(row.stubMemoryMiB) + " MiB" : "—";
        gtk_list_store_set(store_, &iter, kPath, row.path.c_str(), kName, row.name.c_str(), kState,
                           row.state.c_str(), kStubDomid, stub.c_str(), kStubMemory, memory.c_str(),
                           kDisplay, row.displayMode.c_str(), -1);
    }
    updateButtons();
}

bool ManagerWindow::findRow(const std::string& path, GtkTreeIter* iter) const {
    // A linear walk: a dom0 runs tens of guests, not thousands.
    auto* model = GTK_TREE_MODEL(store_);
    for (bool ok = gtk_tree_model_get_iter_first(model, iter); ok;
         ok = gtk_tree_model_iter_next(model, iter)) {
        gchar* value = nullptr;
        gtk_tree_model_get(model, iter, kPath, &value, -1);
        const bool same = value && path == value;
        g_free(value);
        if (same)
            return true;
    }
    return false;
}

std::string ManagerWindow::selectedPath() const {
    GtkTreeModel* model = nullptr;
    GtkTreeIter iter;
    if (!gtk_tree_selection_get_selected(gtk_tree_view_get_selection(GTK_TREE_VIEW(view_)), &model,
                                         &iter))
        return {};
    gchar* value = nullptr;
    gtk_tree_model_get(model, &iter, kPath, &value, -1);
    std::string path = value ? value : "";
    g_free(value);
    return path;
}

void ManagerWindow::updateButtons() {
    // Offer only what the daemon would accept in the guest's state; it still checks.
    const GuestRow* row = model_.find(selectedPath());
    const std::string state = row ? row->state : "";
    const bool down = state == "stopped" || state == "failed";
    const bool up = state == "running";
    gtk_widget_set_sensitive(start_, down);
    gtk_widget_set_sensitive(stop_, up || state == "paused");
    gtk_widget_set_sensitive(restart_, up || down);
    gtk_widget_set_sensitive(display_, up && row->displayMode.rfind("vnc", 0) == 0);
}

void ManagerWindow::act(int which) {
    const GuestRow* row = model_.find(selectedPath());
    if (!row)
        return;
    const auto action = static_cast<Action>(which);
    const std::string name = row->name;
    status(std::string(actionName(action)) + " " + name + "…");
    runAction(action, name, [this, action, name](const std::string& error) {
        status(error.empty() ? std::string(actionName(action)) + " " + name + ": done"
                             : std::string(actionName(action)) + " " + name + ": " + error);
    });
}

void ManagerWindow::openDisplay() {
    const GuestRow* row = model_.find(selectedPath());
    if (!row)
        return;
    try {
        openDisplayWindow(client_, row->name,
                          [this](const std::string& guest, const std::string& line) {
                              status("display of " + guest + ": " + line);
                          });
    } catch (const std::exception& e) {
        status("display of " + row->name + ": " + errorText(e));
    }
}

} // namespace vmmanager
