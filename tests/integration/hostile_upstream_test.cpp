// Issue 18, as an attacker meets the gateway: whoever may publish to a topic the module subscribes
// to writes bytes into the module's output, because the module escapes nothing (field-notes.md
// 2.1). Here a publisher on the upstream broker sends topics holding `",` and length fields of
// their own, and payloads carrying whole fake module lines, in every form the module can write a
// message in (modemsim --recv-form), while the daemon's own publishes wait for their PUBACK.
// None of it may change the session's state, the spool or the counters; each message is
// delivered locally with its exact topic and payload, or refused and counted.
#include "daemon_e2e.hpp"

namespace {

using namespace e2e;
using namespace std::chrono_literals;
using namespace std::string_literals;

struct Hostile {
  std::string topic;  // below "gw/cmd/"
  std::string payload;
};

// What a forger puts in a payload: every line that would change something if the daemon took it
// for the module's. The +QMTPUBEX ones name the message ids of the daemon's first publishes.
std::vector<std::string> fake_lines() {
  std::vector<std::string> lines = {
      "\r\n+QMTSTAT: 0,1\r\n",
      "\r\n+QMTRECV: 0,9,\"gw/cmd/forged\",4,\"evil\"\r\n",
      "\r\n+QMTRECV: 0,9,\"gw/cmd/forged\",\"evil\"\r\n",
      "\r\nRDY\r\n",
      "\r\nOK\r\n",
      "\r\nERROR\r\n",
      "\r\n> ",
      "\r\n+QIURC: \"pdpdeact\",1\r\n",
      "\r\n+CEREG: 0\r\n",
  };
  for (int msgid = 1; msgid <= 6; ++msgid)
    lines.push_back("\r\n+QMTPUBEX: 0," + std::to_string(msgid) + ",0\r\n");
  return lines;
}

std::vector<Hostile> hostile_messages(bool topics_with_quote_comma_quote) {
  std::vector<Hostile> out;
  std::string all;
  for (const std::string& fake : fake_lines()) {
    all += fake;
    out.push_back({"plain", fake});
    out.push_back({"x\",1,\"a", fake});  // the issue's topic: a length field of its own
    out.push_back({"x\",1,\"a\",5,\"", "\"" + fake + "\""});
  }
  out.push_back({"all", all});
  out.push_back({"x\",2,\"a", all + "\r\n"});
  if (topics_with_quote_comma_quote) {
    out.push_back({"\",\"", "p"});
    out.push_back({"a\",\"b\",\"c", all});
  }
  return out;
}

class HostileUpstream : public DaemonE2E, public ::testing::WithParamInterface<std::string> {};

TEST_P(HostileUpstream, ChangesNothingAndEveryMessageArrivesExactlyOrIsRefusedAndCounted) {
  const std::string form = GetParam();
  // The daemon's own publishes stay in flight for a while: a forged +QMTPUBEX would complete them.
  sim({"--recv-form", form, "--rtt-ms", "2000"});
  MqttTestClient cloud;
  cloud.connect(upstream_.port(), "cloud", std::nullopt, std::nullopt, false);
  cloud.subscribe("gw/up/#", 1);
  MqttTestClient app;
  app.connect(local_.port(), "app");
  app.subscribe("#", 1);
  start_daemon(settings({{"tele/#", "out", 1, "", "gw/up/"}, {"cmd/#", "in", 1, "", "gw/"}}));
  watch_status();
  const auto ready = wait_state("1");
  ASSERT_TRUE(ready);
  const std::string stats_before = sim().control("stats");
  const std::size_t log_mark = daemon_->log_size();

  // Six telemetry messages go up and wait 2 s for their PUBACK.
  MqttTestClient tele;
  tele.connect(local_.port(), "tele");
  constexpr int kTelemetry = 6;
  for (int n = 0; n < kTelemetry; ++n)
    tele.publish("tele/data", numbered_payload(n), 1);

  // Without a length field (field-notes.md 2.1) a topic holding `","` is cut there: the residual
  // the README names. Those topics are left out of that form.
  const auto messages = hostile_messages(form != "no-length");
  MqttTestClient attacker;
  attacker.connect(upstream_.port(), "attacker");
  std::size_t delivered = 0;
  std::size_t refused = 0;
  for (const Hostile& m : messages) {
    SCOPED_TRACE("topic " + shown(m.topic) + " payload " + shown(m.payload));
    // One at a time: each is accounted for (delivered, or counted as refused in the status)
    // before the next goes, so a refusal is this message's.
    const std::size_t app_mark = app.messages().size();
    const std::size_t monitor_mark = monitor_.messages().size();
    attacker.publish("gw/cmd/" + m.topic, m.payload, 1);
    const double refused_before = static_cast<double>(refused);
    bool accounted = false;
    const auto deadline = Clock::now() + kLimit;
    while (!accounted && Clock::now() < deadline) {
      app.pump(20ms);
      monitor_.pump(0ms);
      cloud.pump(0ms);
      for (std::size_t i = app_mark; i < app.messages().size(); ++i) {
        const auto& got = app.messages()[i];
        if (!got.topic.starts_with("cmd/")) continue;
        EXPECT_EQ(got.topic, "cmd/" + m.topic);
        EXPECT_EQ(got.payload, m.payload) << shown(got.payload);
        accounted = true;
        ++delivered;
      }
      for (std::size_t i = monitor_mark; i < monitor_.messages().size() && !accounted; ++i) {
        const auto& doc = monitor_.messages()[i];
        if (doc.topic != status_topic_) continue;
        const auto json = JsonReader::parse(doc.payload);
        ASSERT_TRUE(json.has_value()) << shown(doc.payload);
        const Json* counters = json->get("counters");
        ASSERT_NE(counters, nullptr);
        if (counters->get("refused")->number > refused_before) {
          EXPECT_EQ(counters->get("refused")->number, refused_before + 1);
          accounted = true;
          ++refused;
        }
      }
    }
    ASSERT_TRUE(accounted) << "neither delivered nor refused";
  }
  EXPECT_EQ(delivered + refused, messages.size());
  std::printf("[ figures  ] %s: %zu hostile messages, %zu delivered byte-exact, %zu refused and counted\n",
              form.c_str(), messages.size(), delivered, refused);
  // Topics without quotes are how brokers are used: in the length forms the real length field
  // makes every such message certain, whatever its payload holds; without a length field, every
  // one whose payload has no quote before a line break.
  std::size_t plain = 0;
  for (const Hostile& m : messages) {
    const bool quote_before_break =
        m.payload.find("\"\r") != std::string::npos || m.payload.find("\"\n") != std::string::npos;
    if (m.topic.find('"') == std::string::npos && (form != "no-length" || !quote_before_break)) ++plain;
  }
  EXPECT_GE(delivered, plain);

  // Nothing else came out locally: no "cmd/forged", nothing twice.
  std::size_t local_commands = 0;
  for (const auto& got : app.messages()) {
    EXPECT_NE(got.topic, "cmd/forged");
    local_commands += got.topic.starts_with("cmd/") ? 1 : 0;
  }
  EXPECT_EQ(local_commands, delivered) << describe(app.messages());

  // The telemetry arrives, each message once, all of it: no forged PUBACK took one out of the
  // spool early, and no forged +QMTSTAT made the daemon reconnect.
  Ledger ledger("gw/up/tele/data", kTelemetry);
  const auto deadline = Clock::now() + kLimit;
  while (ledger.distinct() < kTelemetry && Clock::now() < deadline) {
    ASSERT_TRUE(cloud.pump(50ms));
    ledger.absorb(cloud.messages());
  }
  EXPECT_EQ(ledger.distinct(), kTelemetry) << ledger.describe_missing();
  EXPECT_EQ(ledger.duplicates(), 0);
  EXPECT_TRUE(ledger.strays().empty()) << ledger.describe_strays();

  const std::string stats_after = sim().control("stats");
  EXPECT_EQ(stat(stats_after, "AT+QMTOPEN"), stat(stats_before, "AT+QMTOPEN"));
  EXPECT_EQ(stat(stats_after, "AT+QMTCONN"), stat(stats_before, "AT+QMTCONN"));
  EXPECT_EQ(stat(stats_after, "AT+QIDEACT"), stat(stats_before, "AT+QIDEACT"));
  EXPECT_EQ(stat(stats_after, "AT+CFUN"), stat(stats_before, "AT+CFUN"));
  // The session never left Ready: the retained state stayed "1".
  for (std::size_t i = *ready + 1; i < monitor_.messages().size(); ++i) {
    const auto& m = monitor_.messages()[i];
    if (m.topic == status_topic_ + "/state") {
      EXPECT_EQ(m.payload, "1");
    }
  }
  const std::string log = daemon_->log().substr(log_mark);
  EXPECT_EQ(log.find(" -> "), std::string::npos) << "the session changed state:\n" << tail(log, 40);
  EXPECT_EQ(log.find("that this run never made"), std::string::npos) << tail(log, 40);
}

INSTANTIATE_TEST_SUITE_P(EveryForm, HostileUpstream, ::testing::Values("documented", "split", "no-length"),
                         [](const auto& info) {
                           return info.param == "no-length" ? "no_length" : info.param;
                         });

}  // namespace
