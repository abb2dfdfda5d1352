// Start's and Restart's stub-memory: the stub's memory for that start and the restart
// policy's starts after it, until Reload; and the StubMemoryMiB property.
#include "EngineHarness.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using namespace stubdomd::fakes;
using Catch::Matchers::Contains;

namespace {
const char* kConfig = "/run/stubdomd/g-dm.cfg";

std::optional<Error> restartWith(Harness& h, std::optional<std::uint64_t> mib) {
    std::optional<std::optional<Error>> done;
    StartOptions options;
    options.stubMemoryMiB = mib;
    h.manager->restartWith(h.view("g").uuid, options,
                           [&](const std::optional<Error>& e) { done = e; });
    h.runXl();
    REQUIRE(done);
    return *done;
}
} // namespace

TEST_CASE("StubMemoryMiB shows the stub config's memory, then the running stub's") {
    Harness h;
    h.settings.stubMemoryMiB = 40;
    h.withSpec("g");
    h.specs.specs["g"].memoryMiB = 72;
    h.startManager();
    h.addGuest("g");
    h.runXl();
    CHECK(h.view("g").state == GuestState::Running);
    CHECK(h.view("g").stubMemoryMiB == 72);
    CHECK_THAT(h.files[kConfig], Contains("\nmemory = 72\n"));
}

TEST_CASE("stub-memory applies to that start and the restarts after it, until Reload") {
    Harness h;
    h.settings.stubMemoryMiB = 40;
    h.settings.onStubdomDeath = StubDeathPolicy::Restart;
    h.runningGuest("g");
    CHECK(h.view("g").stubMemoryMiB == 40);

    REQUIRE_FALSE(restartWith(h, 500));
    CHECK(h.view("g").state == GuestState::Running);
    CHECK_THAT(h.files[kConfig], Contains("\nmemory = 500\n"));
    CHECK(h.view("g").stubMemoryMiB == 500);

    h.files.clear();
    h.crashDomain(h.view("g").stubDomid);
    h.settle();
    h.runXl();
    CHECK(h.view("g").restarts == 1);
    CHECK_THAT(h.files[kConfig], Contains("\nmemory = 500\n"));

    h.manager->reload();
    CHECK(h.view("g").stubMemoryMiB == 40); // the next stub's, as the config says again

    REQUIRE_FALSE(restartWith(h, std::nullopt));
    CHECK_THAT(h.files[kConfig], Contains("\nmemory = 40\n"));
}

TEST_CASE("a Restart without stub-memory goes back to the stub config's") {
    Harness h;
    h.settings.stubMemoryMiB = 40;
    h.runningGuest("g");
    REQUIRE_FALSE(restartWith(h, 300));
    CHECK_THAT(h.files[kConfig], Contains("\nmemory = 300\n"));
    REQUIRE_FALSE(restartWith(h, std::nullopt));
    CHECK_THAT(h.files[kConfig], Contains("\nmemory = 40\n"));
    CHECK(h.view("g").stubMemoryMiB == 40);
}

TEST_CASE("stub-memory below the flavour's minimum is refused before anything stops") {
    Harness h;
    const auto run = h.runningGuest("g");
    StartOptions options;
    options.stubMemoryMiB = 8;
    try {
        h.manager->restartWith(h.view("g").uuid, options, [](const auto&) {});
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == ErrorCode::InvalidArgs);
        CHECK_THAT(e.what(), Contains("8 MiB") && Contains("at least 16 MiB"));
    }
    CHECK(h.view("g").state == GuestState::Running);
    CHECK(h.view("g").stubDomid == run.stub);
}

TEST_CASE("stub-memory beyond the host's free memory fails as a stub config's value does") {
    Harness h;
    h.runningGuest("g");
    h.hypervisor.freeKiB = 64 * 1024;
    const auto error = restartWith(h, 500);
    REQUIRE(error);
    CHECK(error->code() == ErrorCode::SpawnFailed);
    CHECK_THAT(error->what(), Contains("not enough free memory for g-dm: it needs 500 MiB"));
}
