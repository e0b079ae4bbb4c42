// An MqttSession over a FakeQuectel (or, after drive_fake_dialect(), over the tests' fake family:
// fake_dialect.hpp), on a ManualClock: the whole state machine, its timers and
// the AT engine run for real, but time only moves when the test moves it, so a 120 s registration
// timeout or a 60 s backoff costs no wall-clock time and every run is the same.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "modem/at/channel.hpp"
#include "modem/session/mqtt_session.hpp"
#include "modem/transport/event_loop.hpp"
#include "support/fake_dialect.hpp"
#include "support/fake_quectel.hpp"
#include "support/manual_clock.hpp"
#include "support/scripted_stream.hpp"

namespace test_support {

class SessionHarness {
 public:
  // `chunk`: how many bytes each read of the module's output returns.
  explicit SessionHarness(std::size_t chunk = 4096);
  ~SessionHarness();

  // A usable configuration (client "dev1" at broker.example.com, one subscription "cmd/#"); change
  // it before start().
  modem::session::SessionConfig config;

  // The session drives the fake family's dialect and the module answers as that family does.
  // Before start().
  void drive_fake_dialect();
  bool start();
  // Lets the module answer and the session react until nothing moves at the current time.
  void pump();
  // Moves the clock by `d` in 10 ms steps, pumping at each.
  void advance(modem::Duration d);
  // Advances until `done` holds; false if `limit` of virtual time passes first.
  bool run_until(const std::function<bool()>& done, modem::Duration limit = std::chrono::minutes(10));
  bool run_until_ready(modem::Duration limit = std::chrono::minutes(10));

  ManualClock clock;
  modem::EventLoop loop{clock};
  ScriptedStream stream;
  FakeQuectel module{stream};
  modem::at::Channel channel{stream, clock};
  std::unique_ptr<modem::session::MqttSession> session;
  std::unique_ptr<modem::session::Dialect> dialect;  // null: the one config.model names

  std::vector<modem::session::State> states;  // every state entered, in order
  std::vector<modem::session::Rung> rungs;    // the rung of every recovery, in order
  std::vector<modem::session::InboundMessage> messages;
};

}  // namespace test_support
