// The waiters of Start and Stop by guest domid: each answered once, a waiter may start
// the next wait, a Restart's start-after-stop is taken once, a gone guest leaves nothing.
#include "core/Waiters.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace stubdomd;

TEST_CASE("waiters: each is answered once, with the error or success, per guest") {
    Waiters w;
    std::vector<std::string> heard;
    const auto note = [&](const std::string& who) {
        return [&heard, who](const std::optional<Error>& e) {
            heard.push_back(who + ":" + (e ? e->what() : "ok"));
        };
    };
    w.waitForStart(5, note("start5a"));
    w.waitForStart(5, note("start5b"));
    w.waitForStart(6, note("start6"));
    w.waitForStop(5, note("stop5"));
    w.started(5, Error(ErrorCode::InvalidState, "cancelled"));
    CHECK(heard == std::vector<std::string>{"start5a:cancelled", "start5b:cancelled"});
    w.started(5, std::nullopt); // nobody waits any more
    CHECK(heard.size() == 2);
    w.stopped(5, std::nullopt);
    w.started(6, std::nullopt);
    CHECK(heard == std::vector<std::string>{"start5a:cancelled", "start5b:cancelled", "stop5:ok",
                                            "start6:ok"});
    w.stopped(7, std::nullopt); // a guest nobody waited for
    CHECK(heard.size() == 4);
}

TEST_CASE("waiters: a waiter may start the next wait, answered by the next end only") {
    Waiters w;
    unsigned answers = 0;
    w.waitForStart(5, [&](const std::optional<Error>&) {
        ++answers;
        w.waitForStart(5, [&](const std::optional<Error>&) { ++answers; });
    });
    w.started(5, std::nullopt);
    CHECK(answers == 1);
    w.started(5, std::nullopt);
    CHECK(answers == 2);
}

TEST_CASE("waiters: a Restart's start after the stop is taken once; forget drops it all") {
    Waiters w;
    CHECK_FALSE(w.takeStartAfterStop(5));
    w.startAfterStop(5, true);
    CHECK(w.takeStartAfterStop(5));
    CHECK_FALSE(w.takeStartAfterStop(5));
    w.startAfterStop(5, true);
    w.startAfterStop(5, false); // the stop was refused
    CHECK_FALSE(w.takeStartAfterStop(5));

    bool answered = false;
    w.startAfterStop(6, true);
    w.waitForStart(6, [&](const std::optional<Error>&) { answered = true; });
    w.forget(6); // the guest is gone (its waiters were answered before)
    CHECK_FALSE(w.takeStartAfterStop(6));
    w.started(6, std::nullopt);
    CHECK_FALSE(answered);
}
