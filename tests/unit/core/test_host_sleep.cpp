// The host-sleep protocol (issue 21): the delay inhibitor held while awake, the guests
// paused before it is let go, resumed before it is taken again; stray signals ignored.
#include "core/HostSleep.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace stubdomd;

namespace {

// One journal of what happened, in order, across the inhibitor and the guests.
struct Journal : SleepInhibitor, SleepTarget {
    std::vector<std::string> events;
    void hold() override { events.push_back("hold"); }
    void release() override { events.push_back("release"); }
    std::size_t pauseForSleep() override {
        events.push_back("pause");
        return 2;
    }
    std::size_t resumeAfterSleep() override {
        events.push_back("resume");
        return 2;
    }
};

using Events = std::vector<std::string>;

} // namespace

TEST_CASE("the inhibitor is held from the start and let go only once the guests are paused") {
    Journal j;
    HostSleep sleep(j, j);
    sleep.start();
    CHECK(j.events == Events{"hold"});
    sleep.prepareForSleep(true);
    CHECK(sleep.sleeping());
    CHECK(j.events == Events{"hold", "pause", "release"});
    sleep.prepareForSleep(false);
    CHECK_FALSE(sleep.sleeping());
    CHECK(j.events == Events{"hold", "pause", "release", "resume", "hold"});
}

TEST_CASE("a wake without a sleep, or a sleep announced twice, does nothing") {
    Journal j;
    HostSleep sleep(j, j);
    sleep.start();
    sleep.prepareForSleep(false);
    CHECK(j.events == Events{"hold"});
    sleep.prepareForSleep(true);
    sleep.prepareForSleep(true);
    CHECK(j.events == Events{"hold", "pause", "release"});
    sleep.prepareForSleep(false);
    sleep.prepareForSleep(false);
    CHECK(j.events == Events{"hold", "pause", "release", "resume", "hold"});
}

TEST_CASE("logind starting again in the middle of a sleep ends it: the guests are resumed") {
    Journal j;
    HostSleep sleep(j, j);
    sleep.start();
    sleep.sleepManagerStarted(); // awake: nothing to do
    CHECK(j.events == Events{"hold"});
    sleep.prepareForSleep(true);
    sleep.sleepManagerStarted(); // its PrepareForSleep(false) will never come
    CHECK_FALSE(sleep.sleeping());
    CHECK(j.events == Events{"hold", "pause", "release", "resume", "hold"});
    sleep.prepareForSleep(false); // a late false does nothing more
    CHECK(j.events == Events{"hold", "pause", "release", "resume", "hold"});
}
