// Links a stub domain to its guest the way the Xen toolstack does (DESIGN.md
// section 4, spawn step 4), and undoes it.
#pragma once

#include "Hypervisor.hpp"
#include "Log.hpp"
#include "Store.hpp"

#include <string>
#include <vector>

namespace stubdomd {

struct LinkRequest {
    DomId guest = 0;
    DomId stub = 0;
    std::string uuid;            // the guest's
    std::string deviceModelArgs; // ioemu: written to /vm/<uuid>/image/dmargs
    Flavour flavour = Flavour::Ioemu;
    // linux: written to /vm/<uuid>/image/dm-argv/001, 002, ... one argument per key
    std::vector<std::string> deviceModelArgv;
};

// What the teardown unlinks: the links of a guest that stays, or what the destruction of a
// guest that is gone leaves (its own trees go with it).
enum class Unlink { Links, GuestGone };

// dm-argv's key for argument `index` (0-based): "001" for the first, as libxl numbers
// them (its argv[0], the program name, is not written).
std::string dmArgvKey(std::size_t index);

class StubLinker {
public:
    StubLinker(Store& store, Hypervisor& hypervisor) : store_(store), hypervisor_(hypervisor) {}

    // Throws Error(Internal) when the hypervisor or the store refuses a step; the
    // caller then destroys the stub domain and calls unlink().
    void link(const LinkRequest& request);
    // Removes the keys link() wrote outside the stub domain's own subtree (which the
    // toolstack removes with the domain), of either flavour. Missing keys are fine.
    void unlink(DomId guest, const std::string& uuid);
    // The same once the guest itself is gone: only what its destruction leaves.
    void unlinkGone(DomId guest);
    // The teardown's xenstore step, unlink() or unlinkGone(): the stub is gone or going
    // whatever xenstore says, so a failure is only a warning (logged with `fields`).
    void tearDown(DomId guest, const std::string& uuid, Unlink what, const LogFields& fields);

private:
    Store& store_;
    Hypervisor& hypervisor_;
};

} // namespace stubdomd
