#include "modem/transport/event_loop.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace modem {

void EventLoop::add(EventSource& source) {
  if (std::find(sources_.begin(), sources_.end(), &source) == sources_.end()) sources_.push_back(&source);
}

void EventLoop::remove(EventSource& source) {
  std::erase(sources_, &source);
}

EventLoop::TimerId EventLoop::call_at(TimePoint when, std::function<void()> callback) {
  const TimerId id = next_timer_id_++;
  timers_.emplace(when, std::make_pair(id, std::move(callback)));
  return id;
}

EventLoop::TimerId EventLoop::call_after(Duration delay, std::function<void()> callback) {
  return call_at(clock_.now() + delay, std::move(callback));
}

void EventLoop::cancel(TimerId id) {
  std::erase_if(timers_, [id](const auto& entry) { return entry.second.first == id; });
}

void EventLoop::fire_due_timers() {
  const TimePoint now = clock_.now();
  // Collect first: a callback may add or cancel timers.
  std::vector<TimerId> due;
  for (auto it = timers_.begin(); it != timers_.end() && it->first <= now; ++it)
    due.push_back(it->second.first);
  for (TimerId id : due) {
    auto it =
        std::find_if(timers_.begin(), timers_.end(), [id](const auto& e) { return e.second.first == id; });
    if (it == timers_.end()) continue;  // cancelled by an earlier callback
    auto callback = std::move(it->second.second);
    timers_.erase(it);
    callback();
  }
}

bool EventLoop::run_once(std::optional<Duration> max_wait) {
  struct Watched {
    EventSource* source;
    int pollfd_index;  // -1: no fd, deadline only
  };
  std::vector<pollfd> fds;
  std::vector<Watched> watched;
  std::optional<TimePoint> wake;
  auto consider = [&wake](std::optional<TimePoint> t) {
    if (t && (!wake || *t < *wake)) wake = t;
  };
  for (EventSource* source : sources_) {
    consider(source->next_deadline());
    int index = -1;
    if (const int fd = source->poll_fd(); fd >= 0) {
      index = static_cast<int>(fds.size());
      fds.push_back(pollfd{fd, source->poll_events(), 0});
    }
    watched.push_back({source, index});
  }
  if (!timers_.empty()) consider(timers_.begin()->first);
  if (max_wait) consider(clock_.now() + *max_wait);
  if (fds.empty() && !wake) return false;

  timespec timeout{};
  timespec* timeout_ptr = nullptr;
  if (wake) {
    const auto remaining = std::max(Duration::zero(), *wake - clock_.now());
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(remaining).count();
    timeout.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    timeout.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    timeout_ptr = &timeout;
  }
  if (::ppoll(fds.data(), fds.size(), timeout_ptr, nullptr) < 0 && errno != EINTR) {
    throw std::runtime_error(std::string("ppoll failed: ") + std::strerror(errno));
  }

  const TimePoint now = clock_.now();
  for (const Watched& w : watched) {
    // A dispatch may remove other sources; never call into one that is gone.
    if (std::find(sources_.begin(), sources_.end(), w.source) == sources_.end()) continue;
    const short revents = w.pollfd_index >= 0 ? fds[static_cast<std::size_t>(w.pollfd_index)].revents : 0;
    const auto deadline = w.source->next_deadline();
    if (revents != 0 || (deadline && *deadline <= now)) w.source->dispatch(revents);
  }
  fire_due_timers();
  return true;
}

void EventLoop::run() {
  stopped_ = false;
  while (!stopped_) {
    if (!run_once()) break;
  }
}

}  // namespace modem
