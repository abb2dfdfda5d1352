// Checking the a{sv} options of a method: only the keys a method documents, each
// with its documented type. Pure (no bus needed), so it is unit-tested directly.
#pragma once

#include "core/DisplaySettings.hpp"
#include "core/GuestService.hpp"

#include <sdbus-c++/Types.h>

#include <optional>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace stubdomd::dbus {

using Options = std::map<std::string, sdbus::Variant>;

struct OptionSpec {
    std::string_view key;
    std::string_view signature; // D-Bus type of the variant's value, e.g. "s", "i"
};

// One option whose value has D-Bus type `signature`: Error(ErrorCode::InvalidArgs)
// naming the method, the key and what was expected when `known` has no such key or
// gives it another type (also for options read off the wire: readOptions, Marshal.hpp).
void checkOption(std::string_view method, const std::string& key, const std::string& signature,
                 const std::vector<OptionSpec>& known);

// Throws Error(ErrorCode::InvalidArgs) naming the method, the key and what was
// expected, for the first (in key order) unknown or mistyped key.
void checkOptions(std::string_view method, const Options& options,
                  const std::vector<OptionSpec>& known);

// The options each method accepts (as documented in the XML).
const std::vector<OptionSpec>& noOptions();         // Stop
const std::vector<OptionSpec>& setDisplayOptions(); // address s, keymap s, port i
const std::vector<OptionSpec>& startOptionKeys();   // Start, Restart: stub-memory s
// Start's or Restart's options, checked (checkOptions): stub-memory as a stub config
// writes it ("500M", "512MiB", "1G", "300": MiB), else Error(InvalidArgs) naming it.
StartOptions startOptions(std::string_view method, const Options& options);
// Attach: the display settings the toolstack gave stubdom-dm as qemu arguments:
// vnc b, vnclisten s, vncdisplay u, vncunused b, sdl b, keymap s, videoram u.
const std::vector<OptionSpec>& attachOptions();
// Those of `options` as the guest's display settings; nullopt when none is given.
std::optional<GuestDisplayConfig> toolstackDisplay(const Options& options);
// SetDisplay's mode and options as the choice to store: Error(InvalidArgs) for an unknown
// or mistyped key (checkOptions), Error(InvalidDisplay) for an unknown mode. Whether the
// choice fits the guest is the display rules' business (planDisplay).
DisplayChoice displayChoice(const std::string& mode, const Options& options);

} // namespace stubdomd::dbus
