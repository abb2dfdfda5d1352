// QMP framing: whole lines out, "\r\n" as qemu sends it, and a hard bound on a line.
#include "qmp/JsonLines.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace stubdomd;

TEST_CASE("JsonLines hands out whole lines, in order, across reads") {
    JsonLines lines(100);
    const std::string first = "{\"a\":1}\r\n{\"b\"";
    const std::string second = ":2}\n\n\r\n{\"c\":3}\n";
    REQUIRE(lines.append(first.data(), first.size()));
    CHECK(lines.next() == std::optional<std::string>("{\"a\":1}"));
    CHECK_FALSE(lines.next());
    REQUIRE(lines.append(second.data(), second.size()));
    CHECK(lines.next() == std::optional<std::string>("{\"b\":2}"));
    CHECK(lines.next() == std::optional<std::string>("{\"c\":3}"));
    CHECK_FALSE(lines.next());
}

TEST_CASE("JsonLines refuses an unfinished line longer than its limit") {
    JsonLines lines(10);
    REQUIRE(lines.append("0123456789", 10)); // exactly the limit is fine
    CHECK_FALSE(lines.append("x", 1));
}

TEST_CASE("JsonLines refuses a finished line longer than its limit, even in one read") {
    JsonLines lines(10);
    const std::string text = "short\n0123456789ABC\n";
    CHECK_FALSE(lines.append(text.data(), text.size()));
}

TEST_CASE("JsonLines measures each line on its own, not what is buffered") {
    JsonLines lines(10);
    const std::string text = "0123456789\n0123456789\n012345";
    REQUIRE(lines.append(text.data(), text.size()));
    REQUIRE(lines.append("6789", 4));
    CHECK(lines.next() == std::optional<std::string>("0123456789"));
    CHECK(lines.next() == std::optional<std::string>("0123456789"));
    CHECK_FALSE(lines.next());
    CHECK_FALSE(lines.append("X", 1)); // the tail is now 11 bytes
}
