// MqttLink against a real mosquitto broker started by each test, driven by the real event loop.
// What the link sends is checked from the outside by a second client (MqttTestClient) and by the
// broker's own log; every wait is for a condition, with a hang guard that is not a timing claim.
#include "mqtt_link.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "modem/transport/event_loop.hpp"
#include "support/mosquitto_broker.hpp"
#include "support/mqtt_test_client.hpp"

namespace modemsim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using test_support::MosquittoBroker;
using test_support::MqttTestClient;

// Everything the module's host-facing side would need to know must survive the trip: AT quoting
// characters, line ends, NUL, Ctrl-Z (which ends a payload in text mode) and non-ASCII bytes.
std::string awkward_payload() {
  static const char raw[] =
      "\"quoted\",comma\r\nCR LF\0NUL\x1a"
      "ctrl-z\x80\xff\xc3\xa9 end";
  std::string payload(raw, sizeof raw - 1);
  for (int b = 0; b < 256; ++b)
    payload += static_cast<char>(b);
  return payload;
}

// Records every event of one link.
struct Recorder {
  std::vector<bool> opened;
  std::vector<int> connacks;
  std::vector<std::pair<int, std::vector<int>>> subacks;
  std::vector<int> unsubacks;
  std::vector<int> published;
  std::vector<MqttMessage> messages;
  int lost = 0;
  // Runs after the message is recorded; a test may use it to act from inside a callback.
  std::function<void(const MqttMessage&)> after_message;
  std::function<void(int)> after_connack;

  MqttLinkEvents events() {
    MqttLinkEvents e;
    e.on_opened = [this](bool ok) { opened.push_back(ok); };
    e.on_connack = [this](int code) {
      connacks.push_back(code);
      if (after_connack) after_connack(code);
    };
    e.on_suback = [this](int mid, std::vector<int> granted) {
      subacks.emplace_back(mid, std::move(granted));
    };
    e.on_unsuback = [this](int mid) { unsubacks.push_back(mid); };
    e.on_published = [this](int mid) { published.push_back(mid); };
    e.on_message = [this](MqttMessage m) {
      messages.push_back(m);
      if (after_message) after_message(messages.back());
    };
    e.on_lost = [this] { ++lost; };
    return e;
  }
};

// A link registered with the loop for as long as it lives.
struct TestLink {
  TestLink(modem::EventLoop& loop, int port) : loop_(loop) {
    link = std::make_unique<MqttLink>("127.0.0.1", port, recorder.events());
    loop_.add(*link);
  }
  ~TestLink() { destroy(); }
  void destroy() {
    if (!link) return;
    loop_.remove(*link);
    link.reset();
  }
  MqttLink* operator->() { return link.get(); }

  Recorder recorder;
  std::unique_ptr<MqttLink> link;

 private:
  modem::EventLoop& loop_;
};

MqttConnectOptions options_for(const std::string& client_id) {
  MqttConnectOptions options;
  options.client_id = client_id;
  return options;
}

class MqttLinkTest : public ::testing::Test {
 protected:
  void SetUp() override { broker.emplace(MosquittoBroker::start()); }

  // Runs the loop until `done`; the 10 s limit only stops a broken test from hanging CI.
  void run_until(const std::function<bool()>& done) {
    const modem::TimePoint give_up = clock.now() + seconds(10);
    while (!done()) {
      ASSERT_LT(clock.now(), give_up) << "condition not reached";
      loop.run_once(milliseconds(100));
    }
  }

  // Runs the loop for a while, for checks that something does NOT happen.
  void run_for(milliseconds duration) {
    const modem::TimePoint end = clock.now() + duration;
    while (clock.now() < end)
      loop.run_once(milliseconds(20));
  }

  std::unique_ptr<TestLink> make_link() { return make_link_to(broker->port()); }
  std::unique_ptr<TestLink> make_link_to(int port) { return std::make_unique<TestLink>(loop, port); }

  // open() then connect(), both asserted to succeed.
  void open_and_connect(TestLink& link, const MqttConnectOptions& options) {
    ASSERT_TRUE(link->open());
    run_until([&] { return !link.recorder.opened.empty(); });
    ASSERT_EQ(link.recorder.opened, std::vector<bool>{true});
    ASSERT_TRUE(link->connect(options));
    run_until([&] { return !link.recorder.connacks.empty(); });
    ASSERT_EQ(link.recorder.connacks, std::vector<int>{0});
    ASSERT_EQ(link->state(), MqttLink::State::kConnected);
  }

  modem::SteadyClock clock;
  modem::EventLoop loop{clock};
  std::optional<MosquittoBroker> broker;
};

TEST_F(MqttLinkTest, OpenMakesOnlyTheTcpConnectionAndConnectIsAccepted) {
  auto link = make_link();
  ASSERT_TRUE((*link)->open());
  run_until([&] { return !link->recorder.opened.empty(); });
  EXPECT_EQ(link->recorder.opened, std::vector<bool>{true});
  EXPECT_EQ((*link)->state(), MqttLink::State::kOpen);
  ASSERT_TRUE(broker->wait_for_log("New connection from 127.0.0.1"));
  EXPECT_EQ(broker->log().find("as link-1"), std::string::npos) << "CONNECT sent before connect()";
  MqttConnectOptions mqtt5 = options_for("x");
  mqtt5.protocol_version = 5;  // the module speaks 3.1 and 3.1.1 only
  EXPECT_FALSE((*link)->connect(mqtt5));
  EXPECT_EQ((*link)->state(), MqttLink::State::kOpen);

  ASSERT_TRUE((*link)->connect(options_for("link-1")));
  EXPECT_EQ((*link)->state(), MqttLink::State::kConnecting);
  run_until([&] { return !link->recorder.connacks.empty(); });
  EXPECT_EQ(link->recorder.connacks, std::vector<int>{0});
  EXPECT_EQ((*link)->state(), MqttLink::State::kConnected);
  EXPECT_TRUE(broker->wait_for_log("as link-1 (p2, c1, k120)"));
  EXPECT_EQ(link->recorder.lost, 0);
}

TEST_F(MqttLinkTest, ConnectOptionsReachTheBroker) {
  auto link = make_link();
  MqttConnectOptions options = options_for("link-31");
  options.protocol_version = 3;
  options.keepalive_s = 30;
  options.clean_session = false;
  open_and_connect(*link, options);
  // mosquitto's log: p1 = MQTT 3.1, c0 = persistent session, k30 = keepalive.
  EXPECT_TRUE(broker->wait_for_log("as link-31 (p1, c0, k30)")) << broker->log();
}

TEST_F(MqttLinkTest, PublishesOfEveryQosArriveByteExact) {
  MqttTestClient observer;
  observer.connect(broker->port(), "observer");
  ASSERT_EQ(observer.subscribe("up/#", 2), 2);

  auto link = make_link();
  open_and_connect(*link, options_for("link-pub"));
  const std::string payload = awkward_payload();
  std::vector<int> mids;
  for (int qos = 0; qos <= 2; ++qos) {
    const auto mid = (*link)->publish("up/q" + std::to_string(qos), payload, qos, false);
    ASSERT_TRUE(mid.has_value());
    mids.push_back(*mid);
  }
  run_until([&] { return link->recorder.published.size() >= 3; });
  auto published = link->recorder.published;
  std::sort(published.begin(), published.end());
  std::sort(mids.begin(), mids.end());
  EXPECT_EQ(published, mids);

  const auto received = observer.wait_for_messages(3, seconds(10));
  ASSERT_EQ(received.size(), 3u);
  for (int qos = 0; qos <= 2; ++qos) {
    const std::string topic = "up/q" + std::to_string(qos);
    const auto it =
        std::find_if(received.begin(), received.end(), [&](const auto& m) { return m.topic == topic; });
    ASSERT_NE(it, received.end()) << topic;
    EXPECT_EQ(it->payload, payload) << topic;
    EXPECT_EQ(it->qos, qos) << topic;
    EXPECT_FALSE(it->retain);
  }
  EXPECT_EQ(link->recorder.lost, 0);
}

TEST_F(MqttLinkTest, SubscribeReportsGrantedQosAndDeliversMessagesByteExact) {
  auto link = make_link();
  open_and_connect(*link, options_for("link-sub"));
  // Three filters with three QoS: more than one SUBSCRIBE underneath, one SUBACK reported.
  const auto mid = (*link)->subscribe({{"down/a", 1}, {"down/b", 2}, {"down/c", 0}});
  ASSERT_TRUE(mid.has_value());
  run_until([&] { return !link->recorder.subacks.empty(); });
  ASSERT_EQ(link->recorder.subacks.size(), 1u);
  EXPECT_EQ(link->recorder.subacks[0].first, *mid);
  EXPECT_EQ(link->recorder.subacks[0].second, (std::vector<int>{1, 2, 0}));

  MqttTestClient sender;
  sender.connect(broker->port(), "sender");
  const std::string payload = awkward_payload();
  sender.publish("down/b", payload, 2);
  sender.publish("down/a", "second", 2);  // granted 1: delivered at QoS 1
  run_until([&] { return link->recorder.messages.size() >= 2; });
  ASSERT_EQ(link->recorder.messages.size(), 2u);
  // No order between them: libmosquitto hands over a QoS 2 message at PUBREL, a QoS 1 one at once.
  auto by_topic = [&](const std::string& topic) {
    const auto& m = link->recorder.messages;
    const auto it = std::find_if(m.begin(), m.end(), [&](const MqttMessage& x) { return x.topic == topic; });
    return it != m.end() ? std::optional<MqttMessage>(*it) : std::nullopt;
  };
  const auto b = by_topic("down/b");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->payload, payload);
  EXPECT_EQ(b->qos, 2);
  const auto a = by_topic("down/a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->payload, "second");
  EXPECT_EQ(a->qos, 1);

  const auto unsub_mid = (*link)->unsubscribe({"down/b"});
  ASSERT_TRUE(unsub_mid.has_value());
  run_until([&] { return !link->recorder.unsubacks.empty(); });
  EXPECT_EQ(link->recorder.unsubacks, std::vector<int>{*unsub_mid});
  // One sender connection keeps its order: once "down/a" is in, "down/b" would have been too.
  sender.publish("down/b", "after unsubscribe", 1);
  sender.publish("down/a", "fence", 1);
  run_until([&] { return link->recorder.messages.size() >= 3; });
  ASSERT_EQ(link->recorder.messages.size(), 3u);
  EXPECT_EQ(link->recorder.messages[2].payload, "fence");
}

TEST_F(MqttLinkTest, BadCredentialsAreRefusedWithoutALostReport) {
  auto secured = MosquittoBroker::start({.users = {{"sim", "secret"}}});
  auto link = make_link_to(secured.port());
  ASSERT_TRUE((*link)->open());
  run_until([&] { return !link->recorder.opened.empty(); });
  MqttConnectOptions options = options_for("link-bad");
  options.username = "sim";
  options.password = "wrong";
  ASSERT_TRUE((*link)->connect(options));
  run_until([&] { return !link->recorder.connacks.empty(); });
  ASSERT_EQ(link->recorder.connacks.size(), 1u);
  EXPECT_TRUE(link->recorder.connacks[0] == 4 || link->recorder.connacks[0] == 5)
      << link->recorder.connacks[0];
  EXPECT_EQ((*link)->state(), MqttLink::State::kClosed);
  run_for(milliseconds(200));  // the broker's close after the refusal is part of it, not a loss
  EXPECT_EQ(link->recorder.lost, 0);
  EXPECT_EQ((*link)->poll_fd(), -1);

  auto good = make_link_to(secured.port());
  options.client_id = "link-good";
  options.password = "secret";
  open_and_connect(*good, options);
}

TEST_F(MqttLinkTest, BrokerStopIsReportedAsLost) {
  auto connected = make_link();
  open_and_connect(*connected, options_for("link-lost"));
  auto only_open = make_link();
  ASSERT_TRUE((*only_open)->open());
  run_until([&] { return !only_open->recorder.opened.empty(); });

  broker->stop();
  run_until([&] { return connected->recorder.lost > 0 && only_open->recorder.lost > 0; });
  EXPECT_EQ(connected->recorder.lost, 1);
  EXPECT_EQ(only_open->recorder.lost, 1);
  EXPECT_EQ((*connected)->state(), MqttLink::State::kClosed);
  EXPECT_EQ((*only_open)->state(), MqttLink::State::kClosed);

  // Nothing reconnects behind the owner's back, even once the broker is back.
  const std::size_t log_before_restart = broker->log().size();
  broker->restart();
  run_for(milliseconds(300));
  EXPECT_EQ((*connected)->state(), MqttLink::State::kClosed);
  EXPECT_EQ(broker->log().substr(log_before_restart).find("as link-lost"), std::string::npos);
}

TEST_F(MqttLinkTest, WillIsPublishedAfterDropButNotAfterDisconnect) {
  MqttTestClient observer;
  observer.connect(broker->port(), "observer");
  ASSERT_EQ(observer.subscribe("will/#", 1), 1);

  auto clean = make_link();
  MqttConnectOptions clean_options = options_for("link-clean");
  clean_options.will = MqttWill{"will/clean", "clean gone", 1, false};
  open_and_connect(*clean, clean_options);
  auto abrupt = make_link();
  MqttConnectOptions abrupt_options = options_for("link-abrupt");
  abrupt_options.will = MqttWill{"will/abrupt", awkward_payload(), 1, false};
  open_and_connect(*abrupt, abrupt_options);

  (*clean)->disconnect();
  EXPECT_EQ((*clean)->state(), MqttLink::State::kClosed);
  // Once the broker has handled the DISCONNECT, its decision about the will is made.
  ASSERT_TRUE(broker->wait_for_log("Client link-clean disconnected.")) << broker->log();

  (*abrupt)->drop();
  EXPECT_EQ((*abrupt)->state(), MqttLink::State::kClosed);
  const auto received = observer.wait_for_messages(1, seconds(10));
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].topic, "will/abrupt");
  EXPECT_EQ(received[0].payload, awkward_payload());

  // A will of link-clean would have been queued to the observer before this fence.
  observer.publish("will/fence", "fence", 1);
  const auto all = observer.wait_for_messages(2, seconds(10));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].topic, "will/fence");
  run_for(milliseconds(50));
  EXPECT_EQ(clean->recorder.lost, 0);
  EXPECT_EQ(abrupt->recorder.lost, 0);
}

TEST_F(MqttLinkTest, OpenReportsFailureWhereNothingListens) {
  auto link = make_link_to(test_support::free_loopback_port());
  ASSERT_TRUE((*link)->open());
  run_until([&] { return !link->recorder.opened.empty(); });
  EXPECT_EQ(link->recorder.opened, std::vector<bool>{false});
  EXPECT_EQ((*link)->state(), MqttLink::State::kClosed);
  EXPECT_EQ(link->recorder.lost, 0);
  EXPECT_FALSE((*link)->connect(options_for("never")));
}

TEST_F(MqttLinkTest, PausedLinkHoldsItsPublishUntilResumed) {
  MqttTestClient observer;
  observer.connect(broker->port(), "observer");
  ASSERT_EQ(observer.subscribe("paused/#", 1), 1);
  auto link = make_link();
  open_and_connect(*link, options_for("link-paused"));

  (*link)->set_paused(true);
  EXPECT_EQ((*link)->poll_fd(), -1);
  EXPECT_EQ((*link)->next_deadline(), std::nullopt);
  const std::string payload = awkward_payload();
  const auto mid = (*link)->publish("paused/held", payload, 1, false);
  ASSERT_TRUE(mid.has_value());
  run_for(milliseconds(300));
  EXPECT_TRUE(link->recorder.published.empty());
  // Whatever reached the broker before this fence has reached the observer before it too.
  observer.publish("paused/fence", "fence", 1);
  auto received = observer.wait_for_messages(1, seconds(10));
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].topic, "paused/fence");

  (*link)->set_paused(false);
  run_until([&] { return !link->recorder.published.empty(); });
  EXPECT_EQ(link->recorder.published, std::vector<int>{*mid});
  received = observer.wait_for_messages(2, seconds(10));
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[1].topic, "paused/held");
  EXPECT_EQ(received[1].payload, payload);
  EXPECT_EQ(link->recorder.lost, 0);
}

TEST_F(MqttLinkTest, ACallbackMayDestroyTheLink) {
  auto link = make_link();
  open_and_connect(*link, options_for("link-doomed"));
  ASSERT_TRUE((*link)->subscribe({{"doom/#", 1}}).has_value());
  run_until([&] { return !link->recorder.subacks.empty(); });

  MqttTestClient sender;
  sender.connect(broker->port(), "sender");
  for (int i = 0; i < 5; ++i)
    sender.publish("doom/" + std::to_string(i), "m", 1);

  // The first message destroys the link; the rest, possibly already queued, must not be
  // delivered to a link that no longer exists.
  Recorder& recorder = link->recorder;
  int seen = 0;
  recorder.after_message = [&](const MqttMessage&) {
    ++seen;
    link->destroy();
  };
  run_until([&] { return seen > 0; });
  run_for(milliseconds(100));
  EXPECT_EQ(seen, 1);
  EXPECT_TRUE(broker->wait_for_log("Client link-doomed closed its connection.")) << broker->log();
}

TEST_F(MqttLinkTest, DropFromACallbackDiscardsWhatIsStillQueued) {
  auto link = make_link();
  open_and_connect(*link, options_for("link-dropper"));
  ASSERT_TRUE((*link)->subscribe({{"drop/#", 1}}).has_value());
  run_until([&] { return !link->recorder.subacks.empty(); });
  MqttTestClient sender;
  sender.connect(broker->port(), "sender");
  for (int i = 0; i < 5; ++i)
    sender.publish("drop/" + std::to_string(i), "m", 1);

  link->recorder.after_message = [&](const MqttMessage&) { (*link)->drop(); };
  run_until([&] { return !link->recorder.messages.empty(); });
  run_for(milliseconds(100));
  EXPECT_EQ(link->recorder.messages.size(), 1u);
  EXPECT_EQ((*link)->state(), MqttLink::State::kClosed);
  EXPECT_EQ(link->recorder.lost, 0);
}

}  // namespace
}  // namespace modemsim
