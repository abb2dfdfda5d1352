// toolErrors: what a failed xl command said, for a StateReason; the cause (libxl's first
// error) must survive the clean-up errors libxl prints after it.
#include "core/ToolErrors.hpp"

#include <catch2/catch.hpp>

#include <string>

using stubdomd::toolErrors;

TEST_CASE("libxl's first error is kept with the last lines of its clean-up", "[tool-errors]") {
    // What Debian's xl 4.17 printed when a stub domain's disk could not be attached.
    const std::string xl =
        "Parsing config from /run/stubdomd/rxlinux-dm.cfg\n"
        "libxl: error: libxl_device.c:1111:device_backend_callback: Domain 8:unable to add "
        "device with path /local/domain/0/backend/vbd/8/768\n"
        "libxl: error: libxl_create.c:1862:domcreate_attach_devices: Domain 8:unable to add disk "
        "devices\n"
        "libxl: error: libxl_domain.c:1183:libxl__destroy_domid: Domain 8:Non-existant domain\n"
        "libxl: error: libxl_domain.c:1137:domain_destroy_callback: Domain 8:Unable to destroy "
        "guest\n"
        "libxl: error: libxl_domain.c:1064:domain_destroy_cb: Domain 8:Destruction of domain "
        "failed\n";
    CHECK(toolErrors(xl) ==
          "libxl: error: libxl_device.c:1111:device_backend_callback: Domain 8:unable to add "
          "device with path /local/domain/0/backend/vbd/8/768 | ... | "
          "libxl: error: libxl_domain.c:1137:domain_destroy_callback: Domain 8:Unable to destroy "
          "guest | libxl: error: libxl_domain.c:1064:domain_destroy_cb: Domain 8:Destruction of "
          "domain failed");
}

TEST_CASE("lines before the first error are not the cause", "[tool-errors]") {
    CHECK(toolErrors("Parsing config from x\nlibxl: warning: a detail\nlibxl: error: the cause\n"
                     "xl: the end\n") == "libxl: error: the cause | xl: the end");
}

TEST_CASE("a short message is quoted whole, once", "[tool-errors]") {
    CHECK(toolErrors("libxl: error: cannot make domain: no memory\n") ==
          "libxl: error: cannot make domain: no memory");
    CHECK(toolErrors("one\ntwo\n") == "one | two");
    CHECK(toolErrors("one\n  \ntwo\nthree\n") == "one | two | three");
    CHECK(toolErrors("one\ntwo\nthree\nfour\n") == "one | ... | three | four");
}

TEST_CASE("nothing said is said so", "[tool-errors]") {
    CHECK(toolErrors("") == "(no message)");
    CHECK(toolErrors("Parsing config from /etc/xen/g\n\n") == "(no message)");
}

TEST_CASE("a huge line is cut, not quoted whole", "[tool-errors]") {
    const std::string reason = toolErrors("libxl: error: " + std::string(100000, 'x') + "\n");
    CHECK(reason.size() < 1000);
    CHECK(reason.rfind("libxl: error: xxx", 0) == 0);
}
