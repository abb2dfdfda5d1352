// Start, Stop and Restart without freezing the window. Each replies only once the stub
// domain runs or is gone (seconds), and a Client is not thread-safe, so every action runs
// on a GLib worker thread with a Client of its own; the result comes back on the main loop.
// The list itself needs nothing from here: the state changes arrive as signals anyway.
#pragma once

#include <exception>
#include <functional>
#include <string>

namespace vmmanager {

enum class Action { Start, Stop, Restart };

const char* actionName(Action action);

// What to show for an error: libstubdom-client's typed errors as the daemon's message and
// the error's short name ("no guest named 'x' (NoSuchGuest)"), anything else as what().
std::string errorText(const std::exception& error);

// `done` runs on the main loop with an empty string, or with the error the daemon gave
// (its message and name, as libstubdom-client's typed error says them).
void runAction(Action action, const std::string& guest,
               std::function<void(const std::string& error)> done);

} // namespace vmmanager
