// Pause and Resume on request, and the host sleep's pause of every running guest
// (SleepTarget). The order and the set of guests paused for a sleep are PauseControl's;
// this is what it means for a guest's state.
#include "core/Commands.hpp"

#include "core/Log.hpp"

namespace stubdomd {

void Commands::pauseGuest(Guest& guest, const std::string& reason) {
    pauses_.pause(guest.view.domid, guest.view.stubDomid);
    guest.paused = true;
    registry_.transition(guest, GuestState::Paused, reason);
    logInfo(fieldsOf(guest), reason);
}

void Commands::resumeGuest(Guest& guest, const std::string& reason) {
    pauses_.resume(guest.view.domid, guest.view.stubDomid);
    guest.paused = false;
    registry_.transition(guest, GuestState::Running, reason);
    logInfo(fieldsOf(guest), reason);
    teardown_.resumed(guest); // a stub death while it was paused is judged now
}

void Commands::pause(const std::string& uuid, Completion done) {
    Guest& guest = registry_.announced(uuid);
    if (guest.view.state == GuestState::Paused)
        throw Error(ErrorCode::InvalidState, "guest " + guest.view.name + " is already paused");
    if (guest.view.state != GuestState::Running)
        throw Error(ErrorCode::InvalidState, "guest " + guest.view.name +
                                                 " is not running (it is " +
                                                 std::string(toString(guest.view.state)) +
                                                 "); only a running guest "
                                                 "is paused with its stub domain");
    pauseGuest(guest, "paused on request");
    done(std::nullopt);
}

void Commands::resume(const std::string& uuid, Completion done) {
    Guest& guest = registry_.announced(uuid);
    if (guest.view.state != GuestState::Paused)
        throw Error(ErrorCode::InvalidState, "guest " + guest.view.name + " is not paused (it is " +
                                                 std::string(toString(guest.view.state)) + ")");
    // Resumed by hand: the wake must not resume it a second time.
    pauses_.forget(uuid);
    resumeGuest(guest, "resumed on request");
    done(std::nullopt);
}

std::size_t Commands::pauseForSleep() {
    std::size_t paused = 0;
    registry_.forEach([&](Guest& guest) {
        // Paused already (by an administrator) stays as it is, and is not resumed after.
        if (guest.view.state != GuestState::Running)
            return;
        try {
            pauseGuest(guest, "paused while the host sleeps");
            pauses_.pausedForSleep(guest.view.uuid);
            ++paused;
        } catch (const Error& e) {
            logError(fieldsOf(guest), std::string("pausing for the host sleep: ") + e.what());
        }
    });
    return paused;
}

std::size_t Commands::resumeAfterSleep() {
    std::size_t resumed = 0;
    for (const std::string& uuid : pauses_.takeSleepSet()) {
        Guest* guest = registry_.byUuid(uuid);
        if (!guest || guest->view.state != GuestState::Paused)
            continue; // gone, or resumed by hand meanwhile
        try {
            resumeGuest(*guest, "resumed after the host slept");
            ++resumed;
        } catch (const Error& e) {
            logError(fieldsOf(*guest), std::string("resuming after the host sleep: ") + e.what());
        }
    }
    return resumed;
}

} // namespace stubdomd
