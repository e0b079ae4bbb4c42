#include "modem/session/backoff.hpp"

#include <gtest/gtest.h>

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
  EXPECT_LE(secs(backoff.next()), 1.2);
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
