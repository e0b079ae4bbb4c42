#include "modem/log_throttle.hpp"

#include <utility>

namespace modem {

LogThrottle::LogThrottle(EventLoop& loop, Summary summary, Duration interval)
    : loop_(loop), summary_(std::move(summary)), interval_(interval) {}

LogThrottle::~LogThrottle() {
  flush();
}

bool LogThrottle::allow() {
  const auto now = loop_.clock().now();
  if (!quiet_until_ || now >= *quiet_until_) {
    // Nothing logged for a whole interval (or ever): this one goes out as it is, and opens the
    // interval in which the next ones are only counted.
    quiet_until_ = now + interval_;
    return true;
  }
  ++suppressed_;
  // The summary is written when the interval ends, whether or not anything else happens by then.
  if (!timer_) timer_ = loop_.call_at(*quiet_until_, [this] { interval_ended(); });
  return false;
}

void LogThrottle::interval_ended() {
  timer_.reset();
  if (suppressed_ == 0) return;
  write_summary();
  // A summary counts as a line: what comes within the next interval is counted for the next
  // summary, so a flood that goes on costs one line per interval.
  quiet_until_ = loop_.clock().now() + interval_;
}

void LogThrottle::flush() {
  if (timer_) loop_.cancel(*std::exchange(timer_, std::nullopt));
  if (suppressed_ > 0) write_summary();
}

void LogThrottle::write_summary() {
  const std::uint64_t suppressed = std::exchange(suppressed_, 0);
  if (summary_) summary_(suppressed);
}

}  // namespace modem
