// The generated proxies (used by libclient) compile here under -Wpedantic -Werror,
// and the interface names they carry are the ones in dbus/Names.hpp.
#include "dbus/Names.hpp"
#include "dbus/org.xen.Stubdom.Guest_proxy.h"
#include "dbus/org.xen.Stubdom.Helper_proxy.h"
#include "dbus/org.xen.Stubdom.Manager_proxy.h"

#include <catch2/catch.hpp>

#include <string>

TEST_CASE("generated interface names match Names.hpp", "[dbus][bindings]") {
    using namespace stubdomd::dbus;
    CHECK(std::string(org::xen::Stubdom::Manager_proxy::INTERFACE_NAME) == kManagerInterface);
    CHECK(std::string(org::xen::Stubdom::Guest_proxy::INTERFACE_NAME) == kGuestInterface);
    CHECK(std::string(org::xen::Stubdom::Helper_proxy::INTERFACE_NAME) == kHelperInterface);
}
