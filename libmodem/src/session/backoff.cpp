#include "modem/session/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace modem::session {

Backoff::Backoff(BackoffConfig config, std::uint32_t seed) : config_(config), rng_(seed) {}

Duration Backoff::next() {
  if (attempt_ == 0) {
    ++attempt_;
    std::uniform_real_distribution<double> spread(0.0, std::chrono::duration<double>(config_.first).count());
    return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(spread(rng_)));
  }
  const double initial = std::chrono::duration<double>(config_.initial).count();
  const double cap = std::chrono::duration<double>(config_.max).count();
  const double nominal = std::min(cap, initial * std::pow(config_.multiplier, attempt_ - 1));
  if (nominal < cap) ++attempt_;  // stop counting once capped, so the exponent cannot overflow
  std::uniform_real_distribution<double> spread(1.0 - config_.jitter, 1.0 + config_.jitter);
  const double wait = std::min(cap, nominal * spread(rng_));
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(wait));
}

}  // namespace modem::session
