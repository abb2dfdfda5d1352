// The guest list a VM manager shows, kept up to date by the daemon's signals: filled once
// by Client::watch(), then changed only by onGuestAdded / onGuestRemoved / onGuestChanged
// (no polling). It knows nothing of GTK, so the window and the headless mode show the same
// rows.
#pragma once

#include <stubdom-client/Client.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace vmmanager {

// The columns of the list: what a user picks a guest by and what they act on.
struct GuestRow {
    std::string path; // the daemon's object path: the key, stable while the guest exists
    std::string name;
    std::string state;
    std::uint32_t stubDomid = 0; // 0: no stub domain
    std::uint64_t stubMemoryMiB = 0;
    std::string displayMode;

    bool operator==(const GuestRow& other) const;
    bool operator!=(const GuestRow& other) const { return !(*this == other); }
};

// One line per row for people and tests: NAME state=… stub-domid=… stub-memory=…MiB display=…
std::string describe(const GuestRow& row);

class GuestModel {
public:
    enum class Change { Added, Changed, Removed };
    using Listener = std::function<void(Change, const GuestRow&)>;
    using ServiceListener = std::function<void(bool running)>;

    // Registers the Client's callbacks; call load() once listeners are in place.
    explicit GuestModel(stubdom::Client& client);

    void onChange(Listener listener) { listener_ = std::move(listener); }
    void onService(ServiceListener listener) { serviceListener_ = std::move(listener); }

    // Subscribes and reads every guest (Client::watch), reporting each as Added.
    void load();

    std::vector<GuestRow> rows() const; // ordered by name
    const GuestRow* find(const std::string& nameOrPath) const;

private:
    void put(const stubdom::GuestInfo& guest);
    void remove(const stubdom::GuestInfo& guest);

    stubdom::Client& client_;
    std::map<std::string, GuestRow> rows_; // by path
    Listener listener_;
    ServiceListener serviceListener_;
};

} // namespace vmmanager
