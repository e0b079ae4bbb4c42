#include "modem/session/backoff.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace modem::session {
namespace {

using std::chrono::duration;
using std::chrono::seconds;

double secs(Duration d) {
  return duration<double>(d).count();
}

TEST(Backoff, GrowsExponentiallyWithinTheJitterBandAndStopsAtTheCap) {
  BackoffConfig config;
  config.initial = seconds(1);
  config.max = seconds(60);
  config.multiplier = 2.0;
  config.jitter = 0.2;
  Backoff backoff(config, 42);
  EXPECT_LE(secs(backoff.next()), 0.25);  // the first attempt: soon
  double nominal = 1;
  for (int i = 0; i < 12; ++i) {
    const double wait = secs(backoff.next());
    EXPECT_GE(wait, std::min(60.0, nominal * 0.8)) << i;
    EXPECT_LE(wait, std::min(60.0, nominal * 1.2)) << i;
    nominal = std::min(60.0, nominal * 2);
  }
  EXPECT_LE(secs(backoff.next()), 60.0);
}

TEST(Backoff, ResetStartsOver) {
  Backoff backoff(BackoffConfig{}, 7);
  for (int i = 0; i < 5; ++i)
    backoff.next();
  backoff.reset();
  EXPECT_LE(secs(backoff.next()), 0.25);
  EXPECT_GE(secs(backoff.next()), 0.8);
}

TEST(Backoff, TheFirstAttemptIsPromptButSpreadOverAFleet) {
  std::vector<double> firsts;
  for (std::uint32_t seed = 1; seed <= 50; ++seed) {
    Backoff backoff(BackoffConfig{}, seed);
    firsts.push_back(secs(backoff.next()));
  }
  std::sort(firsts.begin(), firsts.end());
  EXPECT_GE(firsts.front(), 0.0);
  EXPECT_LE(firsts.back(), 0.25);
  // Spread over the window, not bunched: fifty gateways in more than the window's first half.
  EXPECT_GT(firsts.back() - firsts.front(), 0.125);
}

TEST(Backoff, JitterSpreadsAFleet) {
  // Two gateways that lost the same cell do not retry in lockstep.
  Backoff a(BackoffConfig{}, 1);
  Backoff b(BackoffConfig{}, 2);
  int different = 0;
  for (int i = 0; i < 5; ++i)
    different += a.next() != b.next();
  EXPECT_GE(different, 4);
}

}  // namespace
}  // namespace modem::session
