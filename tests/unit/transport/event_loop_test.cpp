// The event loop: timers in deadline order, cancellation, fd readiness and source deadlines,
// all waited for in ppoll() and never by sleeping.
#include "modem/transport/event_loop.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace modem {
namespace {

using std::chrono::milliseconds;

TEST(EventLoop, TimersFireInDeadlineOrderAndCancelledOnesNever) {
  SteadyClock clock;
  EventLoop loop(clock);
  std::vector<int> fired;
  const TimePoint now = clock.now();
  loop.call_at(now + milliseconds(30), [&] { fired.push_back(3); });
  loop.call_at(now + milliseconds(10), [&] { fired.push_back(1); });
  const auto cancelled = loop.call_at(now + milliseconds(20), [&] { fired.push_back(2); });
  loop.call_at(now + milliseconds(40), [&] { loop.stop(); });
  loop.cancel(cancelled);
  loop.run();
  EXPECT_EQ(fired, (std::vector<int>{1, 3}));
  EXPECT_GE(clock.now(), now + milliseconds(40));  // it waited for the deadline rather than spinning past it
}

TEST(EventLoop, NothingToWaitForReturnsAtOnce) {
  SteadyClock clock;
  EventLoop loop(clock);
  EXPECT_FALSE(loop.run_once());
}

// A pipe as the source's fd, with an optional deadline.
class PipeSource final : public EventSource {
 public:
  PipeSource() { EXPECT_EQ(::pipe2(fds_, O_NONBLOCK | O_CLOEXEC), 0); }
  ~PipeSource() override {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  int poll_fd() const override { return fds_[0]; }
  short poll_events() const override { return POLLIN; }
  std::optional<TimePoint> next_deadline() const override { return deadline; }
  void dispatch(short revents) override {
    if (revents & POLLIN) {
      char buf[64];
      const ssize_t n = ::read(fds_[0], buf, sizeof buf);
      if (n > 0) received.append(buf, static_cast<std::size_t>(n));
    } else {
      ++deadline_dispatches;
      deadline.reset();
    }
  }
  void send(std::string_view s) {
    ASSERT_EQ(::write(fds_[1], s.data(), s.size()), static_cast<ssize_t>(s.size()));
  }

  std::optional<TimePoint> deadline;
  std::string received;
  int deadline_dispatches = 0;

 private:
  int fds_[2]{-1, -1};
};

TEST(EventLoop, ReadableFdIsDispatchedWithItsEvents) {
  SteadyClock clock;
  EventLoop loop(clock);
  PipeSource source;
  loop.add(source);
  source.send("RDY");
  loop.run_once(milliseconds(1000));
  EXPECT_EQ(source.received, "RDY");
  EXPECT_EQ(source.deadline_dispatches, 0);
}

TEST(EventLoop, SourceDeadlineWakesTheLoopWithoutFdActivity) {
  SteadyClock clock;
  EventLoop loop(clock);
  PipeSource source;
  source.deadline = clock.now() + milliseconds(20);
  loop.add(source);
  loop.run_once();  // no max_wait: only the deadline can end the wait
  EXPECT_EQ(source.deadline_dispatches, 1);
  EXPECT_TRUE(source.received.empty());
}

TEST(EventLoop, RemovedSourceIsNotDispatched) {
  SteadyClock clock;
  EventLoop loop(clock);
  PipeSource source;
  loop.add(source);
  loop.remove(source);
  source.send("x");
  loop.run_once(milliseconds(10));
  EXPECT_TRUE(source.received.empty());
}

}  // namespace
}  // namespace modem
