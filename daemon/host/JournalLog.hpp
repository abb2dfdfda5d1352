// The journal as the log's destination, with the structured fields of DESIGN.md
// section 7 (GUEST_NAME=, GUEST_DOMID=, STUBDOM_DOMID=, HELPER=, PRIORITY=).
#pragma once

#include "core/Log.hpp"

namespace stubdomd {

// True when stderr is the journal stream systemd connected us to: JOURNAL_STREAM
// names the device and inode of stderr (a child that inherited the variable but
// writes elsewhere does not count).
bool stderrIsJournal();

// A sink that sends every line to the journal with its fields.
LogSink journalSink();

// Called once by main(): the journal sink when stderrIsJournal(), else the plain
// stderr lines of the default sink stay. Returns whether the journal was chosen.
bool installLogSink();

} // namespace stubdomd
