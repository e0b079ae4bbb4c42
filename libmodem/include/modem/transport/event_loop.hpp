// One event loop for the whole process (DESIGN.md: no threads, no sleeps). It waits in ppoll() for
// the earliest of: a watched fd becoming ready, a source's deadline, a timer. Sources describe what
// they wait for afresh before every wait, in the manner of GLib's prepare/dispatch, so a component
// never has to remember to re-arm the loop after its state changed.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "modem/clock.hpp"

namespace modem {

class EventSource {
 public:
  virtual ~EventSource() = default;
  // The fd to watch now, or -1 for none.
  virtual int poll_fd() const = 0;
  // POLLIN and/or POLLOUT.
  virtual short poll_events() const = 0;
  // When the source must run even if its fd stays quiet; nullopt for never.
  virtual std::optional<TimePoint> next_deadline() const = 0;
  // Called with the fd's revents (0 when only the deadline passed). The source checks its own
  // deadlines against the clock; after dispatch its next deadline must lie in the future or be gone.
  virtual void dispatch(short revents) = 0;
};

class EventLoop {
 public:
  using TimerId = std::uint64_t;

  explicit EventLoop(const Clock& clock) : clock_(clock) {}
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  const Clock& clock() const { return clock_; }

  void add(EventSource& source);
  void remove(EventSource& source);

  TimerId call_at(TimePoint when, std::function<void()> callback);
  TimerId call_after(Duration delay, std::function<void()> callback);
  void cancel(TimerId id);

  // Waits once (at most `max_wait`, if given) and dispatches whatever is due.
  // Returns false when there was nothing at all to wait for.
  bool run_once(std::optional<Duration> max_wait = std::nullopt);
  // Runs until stop() is called from a callback.
  void run();
  void stop() { stopped_ = true; }

 private:
  void fire_due_timers();

  const Clock& clock_;
  std::vector<EventSource*> sources_;
  std::multimap<TimePoint, std::pair<TimerId, std::function<void()>>> timers_;
  TimerId next_timer_id_ = 1;
  bool stopped_ = false;
};

}  // namespace modem
