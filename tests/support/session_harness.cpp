#include "support/session_harness.hpp"

#include <gtest/gtest.h>

namespace test_support {

namespace ms = modem::session;

SessionHarness::SessionHarness(std::size_t chunk) : stream(chunk) {
  config.host = "broker.example.com";
  config.port = 1883;
  config.client_id = "dev1";
  config.pdp.apn = "internet";
  config.subscriptions = {{"cmd/#", 1}};
}

SessionHarness::~SessionHarness() {
  session.reset();
}

void SessionHarness::drive_fake_dialect() {
  dialect = make_fake_dialect();
  answer_like_fake_family(module);
}

bool SessionHarness::start() {
  ms::SessionObserver observer;
  observer.state_changed = [this](ms::State s) {
    states.push_back(s);
    if (s == ms::State::kWaiting) rungs.push_back(session->rung());
  };
  observer.message = [this](const ms::InboundMessage& m) { messages.push_back(m); };
  session = dialect ? std::make_unique<ms::MqttSession>(channel, loop, config, observer, std::move(dialect))
                    : std::make_unique<ms::MqttSession>(channel, loop, config, observer);
  const bool started = session->start();
  pump();
  return started;
}

void SessionHarness::pump() {
  // Each turn: the module answers what was written, the channel reads and checks its deadlines,
  // and the loop fires the timers that are due. Bounded: a test that loops forever fails instead.
  for (int turn = 0; turn < 100'000; ++turn) {
    const std::size_t written = stream.written().size();
    const bool served = module.serve();
    const bool inbound = stream.has_inbound();
    if (inbound) channel.handle_readable();
    channel.handle_deadlines();
    loop.run_once(modem::Duration::zero());
    if (!served && !inbound && stream.written().size() == written && !stream.has_inbound()) return;
  }
  ADD_FAILURE() << "the session and the fake module did not settle";
}

void SessionHarness::advance(modem::Duration d) {
  const auto step = std::chrono::milliseconds(10);
  while (d > modem::Duration::zero()) {
    const auto now = std::min<modem::Duration>(d, step);
    clock.advance(now);
    d -= now;
    pump();
  }
}

bool SessionHarness::run_until(const std::function<bool()>& done, modem::Duration limit) {
  pump();
  for (modem::Duration spent{}; !done(); spent += std::chrono::milliseconds(10)) {
    if (spent >= limit) return false;
    advance(std::chrono::milliseconds(10));
  }
  return true;
}

bool SessionHarness::run_until_ready(modem::Duration limit) {
  return run_until([this] { return session && session->ready(); }, limit);
}

}  // namespace test_support
