// Links a stub domain to its guest the way the Xen toolstack does (DESIGN.md
// section 4, spawn step 4), and undoes it.
#pragma once

#include "Hypervisor.hpp"
#include "Store.hpp"

#include <string>

namespace stubdomd {

struct LinkRequest {
    DomId guest = 0;
    DomId stub = 0;
    std::string uuid;            // the guest's
    std::string deviceModelArgs; // written to /vm/<uuid>/image/dmargs
};

class StubLinker {
public:
    StubLinker(Store& store, Hypervisor& hypervisor) : store_(store), hypervisor_(hypervisor) {}

    // Throws Error(Internal) when the hypervisor or the store refuses a step; the
    // caller then destroys the stub domain and calls unlink().
    void link(const LinkRequest& request);
    // Removes the keys link() wrote outside the stub domain's own subtree (which the
    // toolstack removes with the domain). Missing keys are fine.
    void unlink(DomId guest, const std::string& uuid);

private:
    Store& store_;
    Hypervisor& hypervisor_;
};

} // namespace stubdomd
