#include "core/DisplayControl.hpp"

#include "core/Excerpt.hpp"
#include "core/GuestStates.hpp"
#include "core/Log.hpp"
#include "core/XenPaths.hpp"

#include <algorithm>
#include <cstdlib>

namespace stubdomd {

namespace {

// The dom0 vfb backend of the stub domain's first vfb.
std::string vfbBackend(DomId stub) {
    return "/local/domain/0/backend/vfb/" + std::to_string(stub) + "/0";
}

std::optional<std::int32_t> parsePort(const std::optional<std::string>& text) {
    if (!text || text->empty() || text->size() > 5 ||
        text->find_first_not_of("0123456789") != std::string::npos)
        return std::nullopt;
    long port = std::strtol(text->c_str(), nullptr, 10);
    if (port < 1 || port > 65535)
        return std::nullopt;
    return static_cast<std::int32_t>(port);
}

} // namespace

void DisplayControl::resolve(Guest& guest) {
    std::optional<GuestDisplayConfig> config;
    StoredDisplay stored;
    DisplayInputs in;
    in.stub = &*guest.spec;
    if (sources_) {
        config = sources_->guestConfig(guest.view.name);
        stored = sources_->stored(guest.view.uuid);
        in.environment = sources_->environment();
    }
    // What the toolstack created the guest with beats a config file edited since.
    if (guest.toolstackDisplay)
        in.guest = &*guest.toolstackDisplay;
    else if (config)
        in.guest = &*config;
    if (stored.choice)
        in.choice = &*stored.choice;
    DisplayPlan plan = planDisplay(in);
    const bool passwordSet = (stored.password && !stored.password->empty()) ||
                             plan.ioemuPassword.has_value() || plan.passwordInConfig;
    guest.display = std::move(plan);
    registry_.mutate(guest, [&](GuestView& v) {
        v.displayMode = guest.display->mode;
        v.displayPasswordSet = passwordSet;
    });
}

bool DisplayControl::applyRules(Guest& guest) {
    try {
        resolve(guest);
        return true;
    } catch (const Error& e) {
        guest.configError = true;
        guest.configErrorCode = e.code();
        guest.display.reset();
        registry_.fail(guest, e.what());
        logError(fieldsOf(guest), std::string("display set-up refused: ") + e.what());
        return false;
    }
}

void DisplayControl::show(Guest& guest, DomId stub, bool writePassword) {
    if (!guest.display)
        return;
    const DisplayPlan& plan = *guest.display;
    // Upstream qemu in a Linux stub domain reads no password from xenstore: it gets it
    // over QMP once it runs (handPasswordToMonitor), as libxl gives it to qemu-xen.
    const bool overQmp =
        plan.mode == DisplayMode::VncStubdom && channel_.serves(guest.view.flavour);
    if (writePassword && !overQmp &&
        (plan.mode == DisplayMode::VncStubdom || plan.mode == DisplayMode::VncDom0)) {
        std::optional<std::string> password = this->password(guest);
        if (password && plan.mode == DisplayMode::VncStubdom) {
            // qemu-traditional reads /vm/<uuid>/vncpasswd of its guest (and empties it);
            // only the stub domain may read it, not the guest that /vm/<uuid> is shared with.
            const std::string node = "/vm/" + guest.view.uuid + "/vncpasswd";
            store_.write(node, *password);
            store_.setPermissions(node, {{0, Access::None}, {stub, Access::Read}});
        } else if (password) {
            // The dom0 vfb backend reads vncpasswd in its backend directory; xl made it
            // at create time, so this overrides a vfb's own vncpasswd= too.
            const std::string node = vfbBackend(stub) + "/vncpasswd";
            store_.write(node, *password);
            store_.setPermissions(node, {{0, Access::None}});
        }
    }
    registry_.mutate(guest, [&](GuestView& v) {
        v.displayAddress = plan.address;
        v.displayPort = plan.port;
    });
    if (plan.portFromStore) {
        const DomId g = guest.view.domid;
        vncWatches_[g] = {stub, store_.watch(paths::vncPort(stub), [this, g](const std::string&) {
                              if (Guest* again = registry_.byDomid(g))
                                  readVncPort(*again);
                          })};
    }
}

// console/vnc-port lies in the stub domain's own subtree, where its vfb backend (dom0)
// or the stub itself writes it: the value is only ever shown to clients, and then only
// when one of those two wrote it and it is a port number.
void DisplayControl::readVncPort(Guest& guest) {
    auto watched = vncWatches_.find(guest.view.domid);
    if (watched == vncWatches_.end() || guest.view.stubDomid != watched->second.stub)
        return;
    const DomId stub = watched->second.stub;
    const std::string path = paths::vncPort(stub);
    const auto text = valueOrLoggedRefusal(probe_.readOwnedByStub(path, stub), fieldsOf(guest));
    const auto port = parsePort(text);
    if (text && !port)
        logWarning(fieldsOf(guest),
                   "ignoring " + path + ": '" + excerpt(*text) + "' is not a port number");
    registry_.mutate(guest, [&](GuestView& v) { v.displayPort = port.value_or(-1); });
}

std::optional<std::string> DisplayControl::password(const Guest& guest) const {
    std::optional<std::string> password =
        guest.display ? guest.display->ioemuPassword : std::nullopt;
    if (sources_)
        if (auto stored = sources_->stored(guest.view.uuid).password)
            password = stored;
    return password;
}

// Whether a Linux stub domain's qemu starts with VNC password auth (-vnc ...,password=on,
// as libxl starts qemu-xen when the config has a password): upstream qemu takes a
// password over QMP only then, and without one set it lets nobody in.
bool DisplayControl::startsWithVncPassword(const Guest& guest) const {
    if (!channel_.serves(guest.view.flavour) || !guest.display ||
        guest.display->mode != DisplayMode::VncStubdom)
        return false;
    auto stored = password(guest);
    return stored && !stored->empty();
}

// A Linux stub domain's qemu serving VNC now runs: give it the password, as libxl's
// device_model_postconfig does (change-vnc-password). A failure is logged; the guest
// runs on (without a password qemu refuses VNC clients when started with password=on).
void DisplayControl::handPasswordToMonitor(Guest& guest) {
    if (!channel_.stubOf(guest.view.domid) || !channel_.passwordAuth(guest.view.domid))
        return;
    std::optional<std::string> secret;
    try {
        secret = password(guest);
    } catch (const Error& e) {
        logWarning(fieldsOf(guest), std::string("reading the stored VNC password: ") + e.what());
        return;
    }
    if (!secret || secret->empty())
        return;
    const LogFields fields = fieldsOf(guest);
    try {
        channel_.monitor().setVncPassword(
            guest.view.domid, *secret, [fields](const std::optional<Error>& error) {
                if (error)
                    logWarning(fields, std::string("handing the VNC password "
                                                   "to the device model: ") +
                                           error->what());
            });
    } catch (const Error& e) {
        logWarning(fields,
                   std::string("handing the VNC password to the device model: ") + e.what());
    }
}

void DisplayControl::forget(Guest& guest, GuestView& view) {
    view.displayAddress.clear();
    view.displayPort = -1;
    auto watched = vncWatches_.find(guest.view.domid);
    if (watched == vncWatches_.end())
        return;
    const Store::WatchId watch = watched->second.watch;
    vncWatches_.erase(watched);
    try {
        store_.unwatch(watch);
    } catch (const Error& e) {
        logWarning(fieldsOf(guest), std::string("removing the VNC port watch: ") + e.what());
    }
}

void DisplayControl::setChoice(Guest& guest, const DisplayChoice& choice) {
    const std::string& uuid = guest.view.uuid;
    if (!sources_)
        throw Error(ErrorCode::NotSupported, "display choices cannot be stored");
    auto spec = specs_.load(guest.view.name);
    if (!spec)
        throw Error(ErrorCode::InvalidState,
                    "guest " + guest.view.name + " has no stub-domain configuration " +
                        settings_.xenConfigDir + "/stubdom-" + guest.view.name);
    // Checked against the configs as they are now, so a refused choice is never stored.
    std::optional<GuestDisplayConfig> config = sources_->guestConfig(guest.view.name);
    DisplayInputs in;
    in.stub = &*spec;
    in.guest = guest.toolstackDisplay ? &*guest.toolstackDisplay : config ? &*config : nullptr;
    in.choice = &choice;
    in.environment = sources_->environment();
    planDisplay(in);
    StoredDisplay stored = sources_->stored(uuid);
    stored.choice = choice;
    sources_->store(uuid, stored);
    logInfo(fieldsOf(guest), "display set to " + std::string(toString(choice.mode)) +
                                 " for the next start of the stub domain");
}

void DisplayControl::setPassword(Guest& guest, const std::string& password) {
    const std::string& uuid = guest.view.uuid;
    if (!sources_)
        throw Error(ErrorCode::NotSupported, "display passwords cannot be stored");
    StoredDisplay stored = sources_->stored(uuid);
    DisplayMode mode = stored.choice ? stored.choice->mode : guest.view.displayMode;
    if (mode != DisplayMode::VncStubdom && mode != DisplayMode::VncDom0)
        throw Error(ErrorCode::InvalidDisplay,
                    "guest " + guest.view.name + "'s display is " + std::string(toString(mode)) +
                        ", which has no password; only vnc-stubdom and vnc-dom0 have one");
    if (password.find('\0') != std::string::npos || password.find('\n') != std::string::npos)
        throw Error(ErrorCode::InvalidDisplay, "a VNC password cannot contain NUL or newline");
    stored.password = password.empty() ? std::nullopt : std::optional<std::string>(password);
    sources_->store(uuid, stored);
    const bool set =
        !password.empty() ||
        (guest.display && (guest.display->ioemuPassword || guest.display->passwordInConfig));
    registry_.mutate(guest, [&](GuestView& v) { v.displayPasswordSet = set; });
    logInfo(fieldsOf(guest), password.empty()
                                 ? "VNC password cleared for the next start of the stub domain"
                                 : "VNC password changed for the next start of the stub domain");
}

// GetDisplay: for a running Linux stub domain whose qemu serves VNC (vnc-stubdom), where
// qemu says it listens (query-vnc); otherwise what the plan and the store say.
void DisplayControl::get(Guest& guest, GuestService::DisplayDone done) {
    const std::string uuid = guest.view.uuid;
    if (!channel_.stubOf(guest.view.domid) || guest.view.state != GuestState::Running ||
        guest.view.displayMode != DisplayMode::VncStubdom) {
        done(std::nullopt, guest.view);
        return;
    }
    const DomId domid = guest.view.domid;
    const DomId stub = channel_.stubOf(guest.view.domid);
    channel_.monitor().queryVnc(
        domid, [this, domid, stub, uuid, done = std::move(done)](const std::optional<Error>& error,
                                                                 const VncEndpoint& vnc) {
            Guest* again = registry_.byDomid(domid);
            if (!again || again->view.uuid != uuid) {
                done(Error(ErrorCode::NoSuchGuest, "the guest went away"), GuestView{});
                return;
            }
            if (error) {
                done(Error(error->code(),
                           "guest " + again->view.name + "'s device model: " + error->what()),
                     again->view);
                return;
            }
            if (channel_.stubOf(again->view.domid) == stub)
                registry_.mutate(*again, [&](GuestView& v) {
                    v.displayAddress = vnc.enabled ? vnc.host : "";
                    v.displayPort = vnc.enabled ? parsePort(vnc.service).value_or(-1) : -1;
                });
            done(std::nullopt, again->view);
        });
}

// For a running Linux stub domain whose qemu has VNC password auth, a new password also
// goes to qemu at once (change-vnc-password); the call answers when qemu has it. The
// stored password serves the next start, as for every other guest; so does an empty
// one, and any password for a qemu started without password auth (qemu refuses it).
void DisplayControl::setPassword(Guest& guest, const std::string& password, Completion done) {
    setPassword(guest, password);
    if (!channel_.stubOf(guest.view.domid) || !channel_.passwordAuth(guest.view.domid) ||
        password.empty() || guest.view.state != GuestState::Running) {
        if (channel_.stubOf(guest.view.domid) && !password.empty() &&
            !channel_.passwordAuth(guest.view.domid))
            logInfo(fieldsOf(guest), "the running qemu has no VNC password auth; the password "
                                     "takes effect at the next start of the stub domain");
        done(std::nullopt);
        return;
    }
    const std::string name = guest.view.name;
    channel_.monitor().setVncPassword(
        guest.view.domid, password,
        [name, done = std::move(done)](const std::optional<Error>& error) {
            if (error)
                done(Error(error->code(), "guest " + name + "'s device model: " + error->what()));
            else
                done(std::nullopt);
        });
}

// libxl gives a dom0 qemu "-vnc 127.0.0.1:0 -vncunused" when the config says nothing
// about VNC; that default means nothing for a stub domain, so it is taken as the guest not
// saying (a loopback vnclisten in a config is refused).
void DisplayControl::takeToolstackSay(Guest& guest, const GuestDisplayConfig& toolstack) {
    guest.toolstackDisplay = toolstack;
    GuestDisplayConfig& said = *guest.toolstackDisplay;
    if (said.vnc.value_or(false) &&
        (!said.vnclisten || isLoopback(said.vnclisten->substr(0, said.vnclisten->rfind(':'))))) {
        said.vnc.reset();
        said.vnclisten.reset();
        said.vncunused.reset();
        said.vncdisplay.reset();
    }
    // A queued guest was judged on its config file alone: judge it again on what the
    // toolstack said (attach then reports a refusal). A failed one is judged again by
    // attach itself.
    if (guest.spec && guest.view.state == GuestState::Pending)
        applyRules(guest);
}

} // namespace stubdomd
