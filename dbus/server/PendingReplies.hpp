// Async server replies that outlive the handler: the call (a referenced sd-bus message)
// answered later from the core's Completion or a polkit answer, on the loop thread.
//
// Why a registry: a call must be answered once, and while the server's connection is
// still there. The registry (owned by DbusServer, destroyed before the connection)
// holds every pending call; an AsyncReply only refers to it weakly, so a completion
// that comes after the server was torn down is a harmless no-op. On teardown the
// registry answers what is still pending with Failed, so no caller waits for a timeout.
#pragma once

#include "core/Errors.hpp"
#include "core/GuestService.hpp"
#include "core/Log.hpp"
#include "dbus/server/ErrorMapping.hpp"

#include "dbus/server/Marshal.hpp"
#include "dbus/server/SdBusHandles.hpp"

#include <memory>
#include <unordered_map>

namespace stubdomd::dbus {

class PendingReplies {
public:
    PendingReplies() = default;
    ~PendingReplies();
    PendingReplies(const PendingReplies&) = delete;
    PendingReplies& operator=(const PendingReplies&) = delete;

    std::size_t size() const { return held_.size(); }

    struct Entry {
        virtual ~Entry() = default;
        virtual void fail(const sdbus::Error& error) = 0;
    };

    void hold(std::shared_ptr<Entry> entry);
    // Drops `entry` from the registry (it stays alive as long as the caller's ref).
    void release(const Entry* entry);

private:
    std::unordered_map<const Entry*, std::shared_ptr<Entry>> held_;
};

// Sends at most one reply; a caller that disconnected meanwhile, or a connection that
// broke, is logged and otherwise harmless. Cheap to copy (fits std::function).
template <typename... Results> class AsyncReply {
public:
    // `call`: the method call being handled, answered later.
    AsyncReply(PendingReplies& registry, sd_bus_message* call) : registry_(&registry) {
        auto entry = std::make_shared<Typed>(refMessage(call));
        entry_ = entry;
        registry.hold(std::move(entry));
    }

    void succeed(const Results&... values) const {
        if (auto entry = take())
            send([&] { replyWith(entry->call.get(), values...); });
    }
    void fail(const sdbus::Error& error) const {
        if (auto entry = take())
            entry->fail(error);
    }
    void fail(const Error& error) const { fail(toDbusError(error)); }

    // True until answered (or the server went away).
    bool pending() const { return !entry_.expired(); }

    // The core's Completion for a method without results.
    template <typename Self = AsyncReply,
              typename = std::enable_if_t<sizeof...(Results) == 0, Self>>
    Completion completion() const {
        return [reply = *this](const std::optional<Error>& error) {
            if (error)
                reply.fail(*error);
            else
                reply.succeed();
        };
    }

private:
    struct Typed : PendingReplies::Entry {
        explicit Typed(SdMessage c) : call(std::move(c)) {}
        void fail(const sdbus::Error& error) override {
            send([&] { replyError(call.get(), error.getName(), error.getMessage()); });
        }
        SdMessage call;
    };

    // The registry holds the only other strong ref, so a successful lock means the
    // registry (single-threaded) is still alive.
    std::shared_ptr<Typed> take() const {
        auto entry = entry_.lock();
        if (entry)
            registry_->release(entry.get());
        return entry;
    }

    template <typename Send> static void send(Send&& doSend) noexcept {
        try {
            doSend();
        } catch (const std::exception& e) {
            logWarning({}, std::string("could not send a D-Bus reply: ") + e.what());
        } catch (...) {
            logWarning({}, "could not send a D-Bus reply");
        }
    }

    PendingReplies* registry_;
    std::weak_ptr<Typed> entry_;
};

} // namespace stubdomd::dbus
