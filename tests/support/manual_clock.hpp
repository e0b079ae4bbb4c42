// A clock the test moves by hand, so timeouts are tested without waiting for them.
#pragma once

#include "modem/clock.hpp"

namespace test_support {

class ManualClock final : public modem::Clock {
 public:
  modem::TimePoint now() const override { return now_; }
  void advance(modem::Duration d) { now_ += d; }

 private:
  modem::TimePoint now_{std::chrono::hours(1)};
};

}  // namespace test_support
