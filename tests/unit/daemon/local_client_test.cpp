// The local MQTT client against a real mosquitto: what it acknowledges and what it leaves for the
// broker to send again.
#include "local_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "modem/clock.hpp"
#include "modem/transport/event_loop.hpp"
#include "support/log_capture.hpp"
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

// A local app's 10 MB publish used to be read whole into the daemon only to be refused there (the
// module takes 1500 bytes). With MQTT 5's Maximum Packet Size in the CONNECT the broker must not
// send it (§3.1.2.24) and drops it; what comes after it still arrives.
TEST_F(LocalClientTest, ThePacketSizeLimitHasTheBrokerDropWhatIsLargerAndNothingElse) {
  std::vector<LocalMessage> received;
  LocalClientConfig config;
  config.port = broker.port();
  config.client_id = "local-client-limit";
  config.max_packet_size = 4096;
  LocalClient::Events events;
  events.message = [&](const LocalMessage& m) { received.push_back(m); };
  LocalClient client(loop, config, events);
  client.set_subscriptions({{"t/#", 1}});
  client.start();
  ASSERT_TRUE(run_until([&] { return client.connected(); }));

  MqttTestClient app;
  app.connect(broker.port(), "app");
  app.publish("t/marker", "m", 1, true);  // retained: arrives once the subscription is in place
  ASSERT_TRUE(run_until([&] { return !received.empty(); }));
  received.clear();

  app.publish("t/big", std::string(10 * 1024 * 1024, 'x'), 1);
  app.publish("t/fits", std::string(4000, 'y'), 1);
  app.publish("t/after", "after", 1);
  ASSERT_TRUE(run_until([&] { return !received.empty() && received.back().topic == "t/after"; }));
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].topic, "t/fits");
  EXPECT_EQ(received[0].payload.size(), 4000u);
  EXPECT_EQ(received[1].payload, "after");
  EXPECT_TRUE(broker.wait_for_log("Dropping too large outgoing PUBLISH for local-client-limit"))
      << broker.log();

  // The limit holds on a reconnection too (libmosquitto's own reconnect sends the CONNECT again).
  broker.restart();
  ASSERT_TRUE(run_until([&] { return client.stats().connects == 2 && client.connected(); }));
  MqttTestClient app2;
  app2.connect(broker.port(), "app2");
  received.clear();
  app2.publish("t/marker", "m", 1, true);
  ASSERT_TRUE(run_until([&] { return !received.empty(); }));
  received.clear();
  app2.publish("t/big2", std::string(10 * 1024 * 1024, 'z'), 1);
  app2.publish("t/after2", "after", 1);
  ASSERT_TRUE(run_until([&] { return !received.empty() && received.back().topic == "t/after2"; }));
  ASSERT_EQ(received.size(), 1u) << received.front().topic;
}

// A topic from upstream that libmosquitto will not publish (not valid UTF-8, a control character)
// is logged with its bytes escaped, so the journal's reader's terminal never acts on them, and
// counted; a flood of them is one line and a summary.
TEST_F(LocalClientTest, ATopicThatCannotBePublishedIsLoggedEscapedOnceAndCounted) {
  LocalClientConfig config;
  config.port = broker.port();
  config.client_id = "local-client-escape";
  test_support::LogCapture log("bridge", spdlog::level::warn);
  auto client = std::make_unique<LocalClient>(loop, config, LocalClient::Events{});
  client->start();
  ASSERT_TRUE(run_until([&] { return client->connected(); }));
  for (int n = 0; n < 3; ++n)
    client->publish(LocalMessage{"cmd/\x1b[2J\x1b]0;owned\x07\xff", "x", 1, false});
  EXPECT_EQ(client->stats().publish_failed, 3u);
  EXPECT_EQ(client->stats().published, 0u);
  ASSERT_EQ(log.lines().size(), 1u);
  const std::string line = log.lines().front();
  EXPECT_NE(line.find("cannot publish to \"cmd/\\x1b[2J\\x1b]0;owned\\x07\\xff\" locally"), std::string::npos)
      << line;
  EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
  client.reset();
  ASSERT_EQ(log.lines().size(), 2u);
  EXPECT_NE(log.lines().back().find("could not publish 2 more messages locally (3 so far)"),
            std::string::npos)
      << log.lines().back();
}

// Messages from upstream wait in memory while the local broker is away. A count alone let 120
// messages of 250 KB grow the daemon from 9 to 40 MB (issue 18): the hold is bounded by bytes too,
// and like the count bound it keeps the newest.
TEST_F(LocalClientTest, TheHoldIsBoundedByBytesAndKeepsTheNewest) {
  constexpr int kMessages = 25;
  constexpr std::size_t kMessageBytes = 1000;  // topic + payload, as the bound counts them
  LocalClientConfig config;
  config.port = broker.port();
  config.client_id = "local-client-hold";
  config.max_held = 1000;                      // not the count: the bytes bind here
  config.max_held_bytes = 10 * kMessageBytes;  // ten of them
  broker.stop();
  test_support::LogCapture log("bridge", spdlog::level::warn);
  auto client = std::make_unique<LocalClient>(loop, config, LocalClient::Events{});
  client->start();
  ASSERT_FALSE(client->connected());

  for (int n = 0; n < kMessages; ++n) {
    const std::string topic = "h/" + std::to_string(100 + n);  // 5 bytes
    client->publish(LocalMessage{topic, std::string(kMessageBytes - topic.size(), 'a' + n % 26), 1, false});
  }
  EXPECT_EQ(client->held(), 10u);
  EXPECT_EQ(client->held_bytes(), 10 * kMessageBytes);
  EXPECT_EQ(client->stats().held_dropped, static_cast<std::uint64_t>(kMessages - 10));
  // One warning for the first drop, not one per drop (issue 18); the rest in the summary.
  const auto lines_with = [&](const std::string& text) {
    const auto lines = log.lines();
    return std::count_if(lines.begin(), lines.end(),
                         [&](const std::string& line) { return line.find(text) != std::string::npos; });
  };
  EXPECT_EQ(lines_with("dropped the oldest"), 1);

  // Back: the ten newest go out, in order.
  broker.restart();
  MqttTestClient app;
  app.connect(broker.port(), "app");
  app.subscribe("h/#", 1);
  ASSERT_TRUE(run_until([&] { return client->connected() && client->held() == 0; }));
  const auto arrived = app.wait_for_messages(10, std::chrono::seconds(20));
  ASSERT_EQ(arrived.size(), 10u);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(arrived[static_cast<std::size_t>(i)].topic, "h/" + std::to_string(100 + kMessages - 10 + i));
  EXPECT_EQ(client->held_bytes(), 0u);
  EXPECT_EQ(client->stats().held_dropped, static_cast<std::uint64_t>(kMessages - 10));
  client.reset();  // the summary is due at the interval's end, or at the latest now
  EXPECT_EQ(lines_with("dropped 14 more messages from upstream (15 dropped so far)"), 1);
  EXPECT_EQ(lines_with("dropped the oldest"), 1);
}

}  // namespace
}  // namespace cellmqttd
