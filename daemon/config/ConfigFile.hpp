// /etc/stubdomd/stubdomd.json: the daemon's settings file (DESIGN.md section 7).
//
// Keys are snake_case and all optional; a key that is absent keeps the default of
// Settings.hpp. Unknown keys, wrong types and out-of-range values are errors
// (Error(ErrorCode::InvalidConfig)) whose message names the file and the key's JSON
// path, e.g.
//   /etc/stubdomd/stubdomd.json: unknown key 'helpers[0].pth' (did you mean 'path'?)
//   /etc/stubdomd/stubdomd.json: 'max_parallel_spawns' must be a positive integer, got
//   string "four"
//   /etc/stubdomd/stubdomd.json:3:7: JSON syntax error: ...
//   cannot read /etc/stubdomd/stubdomd.json: Permission denied
#pragma once

#include "config/Settings.hpp"

#include <string>

namespace stubdomd {

inline constexpr const char* kDefaultConfigPath = "/etc/stubdomd/stubdomd.json";

// What loadSettings() does when `path` does not exist (ENOENT).
// The daemon runs without a settings file when it was not asked for one: main() passes
// UseDefaults for the default path, but Error for an explicit `--config FILE`, because a
// file the administrator named and that is not there is a mistake worth stopping for.
// Any other failure (permissions, a directory, bad content) is always an error.
enum class IfMissing { Error, UseDefaults };

// Reads and validates the settings file. Throws Error(InvalidConfig).
Settings loadSettings(const std::string& path, IfMissing ifMissing = IfMissing::Error);

// Parses settings text; `source` names it in messages (normally the file's path).
// Starts from `base` so callers can layer files; throws Error(InvalidConfig).
Settings parseSettings(const std::string& text, const std::string& source,
                       const Settings& base = Settings{});

} // namespace stubdomd
