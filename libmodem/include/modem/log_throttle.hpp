// One log line per interval for something that can happen in floods (a forger's thousands of
// messages, a full spool): the first occurrence is logged at once, the rest of the interval is
// counted, and the next line that is let through says how many were held back. The counters that
// matter are kept elsewhere and stay exact; only the log is summarised.
#pragma once

#include <cstdint>
#include <optional>

#include "modem/clock.hpp"

namespace modem {

class LogThrottle {
 public:
  explicit LogThrottle(Duration interval = std::chrono::seconds(60)) : interval_(interval) {}

  // nullopt: stay silent (counted). Otherwise log now; the value is how many occurrences were
  // held back since the previous line.
  std::optional<std::uint64_t> allow(TimePoint now) {
    if (last_ && now < *last_ + interval_) {
      ++held_back_;
      return std::nullopt;
    }
    last_ = now;
    const std::uint64_t held = held_back_;
    held_back_ = 0;
    return held;
  }

 private:
  Duration interval_;
  std::optional<TimePoint> last_;
  std::uint64_t held_back_ = 0;
};

}  // namespace modem
