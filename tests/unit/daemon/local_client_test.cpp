// The local MQTT client against a real mosquitto: what it acknowledges and what it leaves for the
// broker to send again.
#include "local_client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <utility>
#include <vector>

#include "modem/clock.hpp"
#include "modem/transport/event_loop.hpp"
#include "support/mosquitto_broker.hpp"
#include "support/mqtt_test_client.hpp"

namespace cellmqttd {
namespace {

using std::chrono::milliseconds;
using test_support::MosquittoBroker;
using test_support::MqttTestClient;

class LocalClientTest : public ::testing::Test {
 protected:
  // Runs the loop until `done` holds; false at the hang guard.
  bool run_until(const std::function<bool()>& done) {
    const auto guard = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done()) {
      if (std::chrono::steady_clock::now() > guard) return false;
      loop.run_once(milliseconds(50));
    }
    return true;
  }

  MosquittoBroker broker = MosquittoBroker::start();
  modem::SteadyClock clock;
  modem::EventLoop loop{clock};
};

TEST_F(LocalClientTest, WhatTheSpoolCouldNotStoreIsNotAcknowledgedAndComesAgain) {
  std::vector<std::string> received;
  std::vector<bool> answers;  // what after_read() returned after each batch holding messages
  bool refuse_next = false;   // the next batch "cannot be stored" (a full disk)
  std::size_t seen = 0;
  LocalClientConfig config;
  config.port = broker.port();
  config.client_id = "local-client-test";
  config.clean_session = false;  // as shipped: the broker keeps what we did not acknowledge
  LocalClient::Events events;
  events.message = [&](const LocalMessage& m) { received.push_back(m.payload); };
  events.after_read = [&] {
    const bool new_messages = received.size() > seen;
    seen = received.size();
    if (!new_messages) return true;  // a CONNACK, a SUBACK: nothing to store
    answers.push_back(!refuse_next);
    return !std::exchange(refuse_next, false);
  };
  LocalClient client(loop, config, events);
  client.set_subscriptions({{"t/#", 1}});
  client.start();
  ASSERT_TRUE(run_until([&] { return client.connected(); }));

  MqttTestClient app;
  app.connect(broker.port(), "app");
  // Retained, so it arrives whether the subscription is in place yet or not.
  app.publish("t/marker", "m", 1, true);
  ASSERT_TRUE(run_until([&] { return !received.empty(); }));
  received.clear();
  answers.clear();
  seen = 0;
  refuse_next = true;

  app.publish("t/x", "must not be lost", 1);
  ASSERT_TRUE(run_until([&] { return received.size() >= 2; })) << "the broker did not send it again";
  EXPECT_EQ(received, (std::vector<std::string>{"must not be lost", "must not be lost"}));
  ASSERT_GE(answers.size(), 2u);
  EXPECT_FALSE(answers[0]);  // refused: the connection was dropped before the PUBACK left
  EXPECT_TRUE(answers[1]);   // the broker's second delivery is stored and acknowledged
  EXPECT_EQ(client.stats().connects, 2u);
}

}  // namespace
}  // namespace cellmqttd
