// Time as the engine sees it. Everything that waits does so against a deadline on this clock,
// never by sleeping, so tests can drive time by hand and the daemon stays idle between events.
#pragma once

#include <chrono>

namespace modem {

using Duration = std::chrono::steady_clock::duration;
using TimePoint = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

// The monotonic system clock: immune to wall-clock jumps (NTP, a gateway without an RTC at boot).
class SteadyClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace modem
