// One warning per event lets a flood write the journal full: a 300-message flood wrote 250
// warnings (issue 18), and journald then drops lines of its own accord, the useful ones with the
// rest. A LogThrottle stands in front of one kind of log line: the first occurrence is logged at
// once, the ones that follow within `interval` are only counted, and when the interval ends one
// summary line says how many there were. While the events keep coming, one summary per interval;
// once an interval passes without any, the next occurrence is logged at once again.
//
// Only the log is summarised: the counters the events also feed (status JSON) stay exact.
// Timed by the event loop's clock and one loop timer: no thread, no sleep.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "modem/clock.hpp"
#include "modem/transport/event_loop.hpp"

namespace modem {

class LogThrottle {
 public:
  // Called with the number of occurrences that were not logged, at most once per interval.
  using Summary = std::function<void(std::uint64_t suppressed)>;

  // journald's own rate limit counts over 30 s (journald.conf RateLimitIntervalSec=); a summary
  // as often keeps a flood to a few lines a minute while a person watching `journalctl -f` still
  // sees it go on.
  static constexpr Duration kDefaultInterval = std::chrono::seconds(30);

  LogThrottle(EventLoop& loop, Summary summary, Duration interval = kDefaultInterval);
  // Writes the pending summary, if any, so a count is not lost at shutdown. The summary callback
  // runs here: declare the throttle after whatever the callback uses, so it goes first.
  ~LogThrottle();
  LogThrottle(const LogThrottle&) = delete;
  LogThrottle& operator=(const LogThrottle&) = delete;

  // One occurrence: true when it is to be logged now; false when it was counted for the summary.
  bool allow();
  // Writes the pending summary now, if there is one.
  void flush();

  Duration interval() const { return interval_; }

 private:
  void interval_ended();
  void write_summary();

  EventLoop& loop_;
  Summary summary_;
  Duration interval_;
  std::optional<TimePoint> quiet_until_;  // occurrences before this are counted, not logged
  std::uint64_t suppressed_ = 0;
  std::optional<EventLoop::TimerId> timer_;
};

}  // namespace modem
