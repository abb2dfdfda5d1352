// What libstubdom-client exports. The library is built with hidden visibility, so only
// the names marked here are its ABI: the classes and functions of this directory. The
// Debian package's symbols file (debian/libstubdom-client0.symbols) lists exactly them,
// and its build fails when one appears or goes, so an ABI change is always a decision.
#pragma once

#define STUBDOM_CLIENT_API __attribute__((visibility("default")))
// For what a public class declares but callers never reach (Client's Impl): without it a
// nested class takes the default visibility of the class around it.
#define STUBDOM_CLIENT_LOCAL __attribute__((visibility("hidden")))
