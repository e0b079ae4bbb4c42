// Exponential backoff with jitter and a cap: the wait before the next recovery attempt. Jitter
// keeps a fleet of gateways that lost the same cell from hammering the network in step.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

#include "modem/clock.hpp"

namespace modem::session {

struct BackoffConfig {
  Duration initial = std::chrono::seconds(1);  // the second attempt's wait; then x multiplier each
  Duration max = std::chrono::seconds(60);
  double multiplier = 2.0;
  double jitter = 0.2;  // each wait is spread uniformly over ±20 % of its nominal value
  // The first attempt after a reset (after a stable period) waits anywhere from 0 to this: a lone
  // fault (a broker that closed the connection, a PDP context the network dropped) is over at
  // once, and a second of waiting would only hold data back; spread, so a fleet that lost the
  // same broker does not come back in the same millisecond. Failing again, the waits grow.
  Duration first = std::chrono::milliseconds(250);
};

class Backoff {
 public:
  explicit Backoff(BackoffConfig config, std::uint32_t seed = std::random_device{}());

  // The wait before the next attempt; every call makes the following one longer, up to the cap.
  // The first after construction or reset() is the short, spread `first`.
  Duration next();
  void reset() { attempt_ = 0; }
  unsigned attempt() const { return attempt_; }

 private:
  BackoffConfig config_;
  unsigned attempt_ = 0;
  std::mt19937 rng_;
};

}  // namespace modem::session
