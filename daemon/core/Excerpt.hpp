// Text a caller (or a guest) sent may be quoted back in an error or a log line, but
// never whole: an argument can be as large as the bus allows (32 MiB), and an error
// that echoed it would exceed the bus's message limit itself, for which the bus drops
// the daemon's connection. Cuts keep UTF-8 whole (D-Bus strings must stay valid).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace stubdomd {

// Enough of a name, key or path to recognise it.
inline constexpr std::size_t kExcerptBytes = 256;

// `text` if it fits in `max` bytes; otherwise its first bytes up to `max`, cut on a
// UTF-8 character boundary, followed by "... (N bytes in all)". A byte that is not part
// of well-formed UTF-8 is shown as '?', so the excerpt is always a valid D-Bus string.
std::string excerpt(std::string_view text, std::size_t max = kExcerptBytes);

// Whether `text` is well-formed UTF-8, as every D-Bus string must be.
bool validUtf8(std::string_view text);

} // namespace stubdomd
