// Runs one piece of work in a child process forked for it and hands its result back.
// For a library that loses memory on bad input, run on input that any D-Bus caller can
// supply: libxlutil 4.17 drops what it parsed before a syntax error, so a caller who
// asked PvGrubCheck about a broken config again and again would grow the daemon's heap
// for as long as it runs. In a child, whatever is lost dies with it.
#pragma once

#include <functional>
#include <string>

namespace stubdomd::pvgrub {

// `work`'s string, or the stubdomd::Error it threw, re-thrown with the same code and
// message. A child that dies, or throws anything else, is Error(Internal) naming `what`.
// Blocks until the child ends: meant for work that is short and cannot wait on anything.
std::string runInThrowawayProcess(const std::string& what,
                                  const std::function<std::string()>& work);

} // namespace stubdomd::pvgrub
