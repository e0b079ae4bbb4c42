// The log throttle turns a flood of one kind of log line into the first line and one summary per
// interval, with the exact count of what it held back. Time is a manual clock: the loop's timer
// fires when the test moves the clock past it and turns the loop once without waiting.
#include "modem/log_throttle.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "modem/transport/event_loop.hpp"
#include "support/manual_clock.hpp"

namespace modem {
namespace {

using std::chrono::seconds;

class LogThrottleTest : public ::testing::Test {
 protected:
  // Moves the clock and fires whatever timer is due by then, without waiting.
  void advance(modem::Duration by) {
    clock.advance(by);
    loop.run_once(modem::Duration::zero());
  }
  LogThrottle::Summary record() {
    return [this](std::uint64_t n) { summaries.push_back(n); };
  }

  test_support::ManualClock clock;
  modem::EventLoop loop{clock};
  std::vector<std::uint64_t> summaries;
};

TEST_F(LogThrottleTest, TheFirstIsLoggedAtOnceAndTheRestInOneSummaryWhenTheIntervalEnds) {
  LogThrottle throttle(loop, record(), seconds(30));
  EXPECT_TRUE(throttle.allow());
  for (int i = 0; i < 299; ++i) {
    EXPECT_FALSE(throttle.allow());
    advance(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(summaries.empty()) << "a summary before the interval ended";
  advance(seconds(30));
  EXPECT_EQ(summaries, std::vector<std::uint64_t>{299});
  // Nothing more to say: no further summary.
  advance(seconds(300));
  EXPECT_EQ(summaries, std::vector<std::uint64_t>{299});
}

TEST_F(LogThrottleTest, AfterAQuietIntervalTheNextIsLoggedAtOnceAgain) {
  LogThrottle throttle(loop, record(), seconds(30));
  EXPECT_TRUE(throttle.allow());
  advance(seconds(29));
  EXPECT_FALSE(throttle.allow());  // within the interval of the first
  advance(seconds(1));
  EXPECT_EQ(summaries, std::vector<std::uint64_t>{1});
  advance(seconds(30));  // a whole interval with nothing
  EXPECT_TRUE(throttle.allow());
  EXPECT_EQ(summaries, std::vector<std::uint64_t>{1});
}

TEST_F(LogThrottleTest, ALongFloodCostsOneSummaryPerIntervalAndEveryOccurrenceIsCounted) {
  LogThrottle throttle(loop, record(), seconds(30));
  std::uint64_t logged = 0;
  constexpr int kEvents = 10'000;  // one every 100 ms: 1000 s of flood
  for (int i = 0; i < kEvents; ++i) {
    if (throttle.allow()) ++logged;
    advance(std::chrono::milliseconds(100));
  }
  advance(seconds(30));
  EXPECT_EQ(logged, 1u);
  // 1000 s in 30 s intervals: a summary at the end of each, the last one for the tail.
  EXPECT_EQ(summaries.size(), 34u);
  std::uint64_t total = logged;
  for (const auto n : summaries)
    total += n;
  EXPECT_EQ(total, static_cast<std::uint64_t>(kEvents));
}

TEST_F(LogThrottleTest, WhatIsPendingIsSummarisedOnFlushAndAtDestruction) {
  {
    LogThrottle throttle(loop, record(), seconds(30));
    EXPECT_TRUE(throttle.allow());
    EXPECT_FALSE(throttle.allow());
    EXPECT_FALSE(throttle.allow());
    throttle.flush();
    EXPECT_EQ(summaries, std::vector<std::uint64_t>{2});
    EXPECT_FALSE(throttle.allow());  // still within the interval
  }
  EXPECT_EQ(summaries, (std::vector<std::uint64_t>{2, 1}));
  // The destroyed throttle's timer is gone with it.
  advance(seconds(60));
  EXPECT_EQ(summaries, (std::vector<std::uint64_t>{2, 1}));
}

}  // namespace
}  // namespace modem
