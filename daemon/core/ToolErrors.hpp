// What a failed toolstack command said, cut to fit a StateReason. libxl reports the cause
// of a failed `xl create` first and then the clean-up's own complaints ("Domain 8:Non-existant
// domain", "Unable to destroy guest", "Destruction of domain failed"): a reason made of the
// last lines alone would name only those and hide why the domain could not be built.
#pragma once

#include <cstddef>
#include <string>

namespace stubdomd {

// The first error line of a command's stderr (the first line naming an error, else its
// first line), then its last `lastLines` lines, joined with " | " and " | ... | " where
// lines were left out. xl's own "Parsing config from ..." and blank lines are dropped.
// "(no message)" when nothing is left.
std::string toolErrors(const std::string& stderrText, std::size_t lastLines = 2);

} // namespace stubdomd
