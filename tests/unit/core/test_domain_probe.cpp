// The trust rule of DomainProbe: a node counts only when dom0 owns it, a missing node is
// "not yet" (retry), and a malformed one is refused for good with its path and value.
#include "Fakes.hpp"
#include "core/DomainProbe.hpp"

#include <catch2/catch.hpp>

using namespace stubdomd;
using fakes::FakeStore;

namespace {
const std::string kUuid = "6f1b7c3e-2a4d-4e5f-9a8b-0c1d2e3f4a5b";

ProbeRefusal refusalOf(const std::variant<std::string, ProbeRefusal>& result) {
    REQUIRE(std::holds_alternative<ProbeRefusal>(result));
    return std::get<ProbeRefusal>(result);
}
} // namespace

TEST_CASE("DomainProbe::uuid reads the dom0-owned vm node") {
    FakeStore store;
    DomainProbe probe(store);
    store.put("/local/domain/7/vm", "/vm/" + kUuid);
    auto result = probe.uuid(7);
    REQUIRE(std::holds_alternative<std::string>(result));
    CHECK(std::get<std::string>(result) == kUuid);
}

TEST_CASE("DomainProbe::uuid asks to retry while the vm node is missing") {
    FakeStore store;
    DomainProbe probe(store);
    auto refusal = refusalOf(probe.uuid(7));
    CHECK(refusal.retryLater);
    CHECK(refusal.reason == "/local/domain/7/vm does not exist yet");
}

TEST_CASE("DomainProbe::uuid refuses a vm node the guest owns") {
    FakeStore store;
    DomainProbe probe(store);
    store.put("/local/domain/7/vm", "/vm/" + kUuid, 7);
    auto refusal = refusalOf(probe.uuid(7));
    CHECK_FALSE(refusal.retryLater);
    CHECK_THAT(refusal.reason, Catch::Contains("/local/domain/7/vm"));
}

TEST_CASE("DomainProbe::uuid refuses a vm node that is not /vm/<uuid>") {
    FakeStore store;
    DomainProbe probe(store);
    store.put("/local/domain/7/vm", "/vm/not-a-uuid");
    auto refusal = refusalOf(probe.uuid(7));
    CHECK_FALSE(refusal.retryLater);
    CHECK(refusal.reason == "/local/domain/7/vm is '/vm/not-a-uuid', not /vm/<uuid>");
}

TEST_CASE("DomainProbe::probe carries the uuid and the refusals of uuid()") {
    FakeStore store;
    DomainProbe probe(store);
    store.put("/local/domain/7/name", "guest");
    SECTION("a whole domain") {
        store.put("/local/domain/7/vm", "/vm/" + kUuid);
        auto result = probe.probe(7);
        REQUIRE(std::holds_alternative<DomainFacts>(result));
        const auto& facts = std::get<DomainFacts>(result);
        CHECK(facts.name == "guest");
        CHECK(facts.uuid == kUuid);
        CHECK_FALSE(facts.target);
    }
    SECTION("no vm node yet") {
        auto result = probe.probe(7);
        REQUIRE(std::holds_alternative<ProbeRefusal>(result));
        CHECK(std::get<ProbeRefusal>(result).retryLater);
        CHECK(std::get<ProbeRefusal>(result).reason == "/local/domain/7/vm does not exist yet");
    }
    SECTION("every node written, but not introduced yet: retry") {
        // Between libxl's two transactions name and vm exist, the memory nodes do not.
        store.put("/local/domain/7/vm", "/vm/" + kUuid);
        store.notIntroduced.insert(7);
        auto result = probe.probe(7);
        REQUIRE(std::holds_alternative<ProbeRefusal>(result));
        CHECK(std::get<ProbeRefusal>(result).retryLater);
        CHECK(std::get<ProbeRefusal>(result).reason ==
              "domain 7 is not introduced to xenstored yet (the toolstack is still writing its "
              "nodes)");
    }
}

TEST_CASE("DomainProbe::name: a dom0-owned domain name, or why not") {
    FakeStore store;
    DomainProbe probe(store);
    SECTION("missing: retry") {
        auto refusal = refusalOf(probe.name(7));
        CHECK(refusal.retryLater);
        CHECK(refusal.reason == "/local/domain/7/name does not exist yet");
    }
    SECTION("a name") {
        store.put("/local/domain/7/name", "guest");
        auto result = probe.name(7);
        REQUIRE(std::holds_alternative<std::string>(result));
        CHECK(std::get<std::string>(result) == "guest");
    }
    SECTION("owned by the guest") {
        store.put("/local/domain/7/name", "guest", 7);
        auto refusal = refusalOf(probe.name(7));
        CHECK_FALSE(refusal.retryLater);
        CHECK(refusal.reason == "/local/domain/7/name is owned by domain 7, not dom0; ignoring it");
    }
    SECTION("no domain name") {
        store.put("/local/domain/7/name", "a/b");
        auto refusal = refusalOf(probe.name(7));
        CHECK_FALSE(refusal.retryLater);
        CHECK(refusal.reason ==
              "/local/domain/7/name is 'a/b', not a domain name (it holds a '/')");
    }
}

TEST_CASE("valueOrLoggedRefusal: the value, nothing for a missing node, a warning for a refusal") {
    std::vector<std::pair<LogLevel, std::string>> logged;
    const LogSink previous =
        setLogSink([&](LogLevel level, const LogFields& fields, const std::string& message) {
            CHECK(fields.guestName == "g");
            logged.emplace_back(level, message);
        });
    const LogFields fields{"g", 7, std::nullopt, ""};
    CHECK(valueOrLoggedRefusal(std::optional<std::string>("v"), fields) == "v");
    CHECK_FALSE(valueOrLoggedRefusal(std::optional<std::string>(), fields));
    CHECK(logged.empty());
    CHECK_FALSE(valueOrLoggedRefusal(ProbeRefusal{"/p is owned by domain 7", false}, fields));
    setLogSink(previous);
    REQUIRE(logged.size() == 1);
    CHECK(logged[0].first == LogLevel::Warning);
    CHECK(logged[0].second == "/p is owned by domain 7");
}
