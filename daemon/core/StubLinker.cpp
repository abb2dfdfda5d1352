#include "core/StubLinker.hpp"

#include "core/Errors.hpp"
#include "core/XenPaths.hpp"

#include <cstdio>

namespace stubdomd {

std::string dmArgvKey(std::size_t index) {
    char key[24];
    std::snprintf(key, sizeof key, "%03zu", index + 1);
    return key;
}

void StubLinker::link(const LinkRequest& r) {
    // The hypervisor's target first: it is what lets the stub domain map the guest's
    // memory; xenstore's target then gives it the guest's rights in the store.
    hypervisor_.setTarget(r.stub, r.guest);
    store_.setTarget(r.stub, r.guest);

    const std::string target = paths::target(r.stub);
    store_.write(target, std::to_string(r.guest));
    store_.setPermissions(target, {{0, Access::None}, {r.stub, Access::Read}});

    const std::string dmDomid = paths::deviceModelDomid(r.guest);
    store_.write(dmDomid, std::to_string(r.stub));
    store_.setPermissions(dmDomid, {{0, Access::None}, {r.guest, Access::Read}});

    // The stub's device model writes its state here, so the stub owns it.
    const std::string stubDm = paths::stubDeviceModel(r.stub, r.guest);
    store_.mkdir(stubDm);
    store_.setPermissions(stubDm, {{r.stub, Access::None}, {r.guest, Access::Read}});

    // The legacy path that qemu-traditional writes and the toolstack waits on; the
    // stub reaches it through its target rights on the guest.
    const std::string legacy = paths::legacyDeviceModel(r.guest);
    store_.mkdir(legacy);
    store_.setPermissions(legacy, {{0, Access::None}, {r.guest, Access::Both}});

    // The arguments are for the stub's eyes only: the guest must not learn or change
    // how its device model runs.
    const std::vector<Permission> stubReads{{0, Access::None}, {r.stub, Access::Read}};
    if (r.flavour == Flavour::Linux) {
        const std::string argv = paths::dmArgv(r.uuid);
        store_.remove(argv); // no argument of an earlier stub may linger past the new end
        store_.mkdir(argv);
        store_.setPermissions(argv, stubReads);
        for (std::size_t i = 0; i < r.deviceModelArgv.size(); ++i) {
            const std::string key = argv + "/" + dmArgvKey(i);
            store_.write(key, r.deviceModelArgv[i]);
            store_.setPermissions(key, stubReads);
        }
        return;
    }
    const std::string dmargs = paths::dmargs(r.uuid);
    store_.write(dmargs, r.deviceModelArgs);
    store_.setPermissions(dmargs, stubReads);
}

void StubLinker::unlink(DomId guest, const std::string& uuid) {
    store_.remove(paths::legacyDeviceModel(guest));
    store_.remove(paths::deviceModelDomid(guest));
    if (!uuid.empty()) {
        store_.remove(paths::dmargs(uuid));
        store_.remove(paths::dmArgv(uuid));
    }
}

// libxl's destroy of the guest removes its /local/domain/g and /vm/U, and with them
// device-model-domid and dmargs or dm-argv: removing them too would cost three requests
// per guest and, after a reboot (a new domain, the same uuid), could remove the new
// domain's dmargs. dom0's legacy directory is ours to remove (DESIGN.md, Teardown).
void StubLinker::unlinkGone(DomId guest) {
    store_.remove(paths::legacyDeviceModel(guest));
}

void StubLinker::tearDown(DomId guest, const std::string& uuid, Unlink what,
                          const LogFields& fields) {
    try {
        if (what == Unlink::GuestGone)
            unlinkGone(guest);
        else
            unlink(guest, uuid);
    } catch (const Error& e) {
        logWarning(fields, std::string("cleaning xenstore: ") + e.what());
    }
}

} // namespace stubdomd
