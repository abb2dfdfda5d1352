#include "GuestModel.hpp"

#include <algorithm>
#include <sstream>

namespace vmmanager {

namespace {

GuestRow rowOf(const stubdom::GuestInfo& g) {
    return {g.path, g.name, g.state, g.stubDomid, g.stubMemoryMiB, g.displayMode};
}

} // namespace

bool GuestRow::operator==(const GuestRow& o) const {
    return path == o.path && name == o.name && state == o.state && stubDomid == o.stubDomid &&
           stubMemoryMiB == o.stubMemoryMiB && displayMode == o.displayMode;
}

std::string describe(const GuestRow& row) {
    std::ostringstream out;
    out << row.name << " state=" << row.state << " stub-domid=";
    if (row.stubDomid == 0)
        out << '-';
    else
        out << row.stubDomid;
    out << " stub-memory=" << row.stubMemoryMiB << "MiB display=" << row.displayMode;
    return out.str();
}

GuestModel::GuestModel(stubdom::Client& client) : client_(client) {
    client_.onGuestAdded([this](const stubdom::GuestInfo& g) { put(g); });
    client_.onGuestRemoved([this](const stubdom::GuestInfo& g) { remove(g); });
    // Every property change arrives here, including the ones the list does not show
    // (restarts, the stub's sampled memory use): put() reports only when a column changed.
    client_.onGuestChanged(
        [this](const stubdom::GuestInfo& g, const std::vector<std::string>&) { put(g); });
    client_.onServiceChanged([this](bool running) {
        if (serviceListener_)
            serviceListener_(running);
    });
}

void GuestModel::load() {
    for (const auto& guest : client_.watch())
        put(guest);
}

void GuestModel::put(const stubdom::GuestInfo& guest) {
    auto row = rowOf(guest);
    auto it = rows_.find(row.path);
    if (it == rows_.end()) {
        it = rows_.emplace(row.path, row).first;
        if (listener_)
            listener_(Change::Added, it->second);
    } else if (it->second != row) {
        it->second = row;
        if (listener_)
            listener_(Change::Changed, it->second);
    }
}

void GuestModel::remove(const stubdom::GuestInfo& guest) {
    auto it = rows_.find(guest.path);
    if (it == rows_.end())
        return;
    const GuestRow row = it->second;
    rows_.erase(it);
    if (listener_)
        listener_(Change::Removed, row);
}

std::vector<GuestRow> GuestModel::rows() const {
    std::vector<GuestRow> out;
    for (const auto& [path, row] : rows_)
        out.push_back(row);
    std::sort(out.begin(), out.end(),
              [](const GuestRow& a, const GuestRow& b) { return a.name < b.name; });
    return out;
}

const GuestRow* GuestModel::find(const std::string& nameOrPath) const {
    for (const auto& [path, row] : rows_)
        if (path == nameOrPath || row.name == nameOrPath)
            return &row;
    return nullptr;
}

} // namespace vmmanager
