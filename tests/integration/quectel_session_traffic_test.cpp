// Data through the Quectel session: publishes up (windowed, byte-exact, refused when they could
// inject AT), messages down in both receive modes, and the session's behaviour under line noise.
#include <gtest/gtest.h>

#include <map>

#include "modem/quectel/quectel_at.hpp"
#include "support/mqtt_test_client.hpp"
#include "support/session_rig.hpp"

namespace {

using namespace std::string_literals;
using modem::session::Admission;
using modem::session::PublishOutcome;
using modem::session::PublishStatus;
using std::chrono::seconds;
using test_support::find_command;
using test_support::MqttTestClient;
using test_support::SessionRig;
using test_support::SessionRigOptions;

// Payloads a gateway must carry untouched (field-notes.md 2.1, 2.2).
std::vector<std::string> payload_corpus() {
  std::string all_bytes;
  for (int b = 0; b < 256; ++b)
    all_bytes += static_cast<char>(b);
  return {
      "plain",
      "{\"relay1\":1,\"relay2\":0}",
      "a,b,c,\"quoted, with commas\"",
      "line1\r\nline2\r\n",
      "\r\nOK\r\n",
      "\r\nERROR\r\n+QMTSTAT: 0,1\r\n",
      "> ",
      "\x00\x1a\x1b\xff\x80"s,
      all_bytes,
      std::string(modem::quectel::kMaxPublishPayload, 'x'),  // exactly the module's limit
      "",
  };
}

TEST(QuectelSessionTraffic, ThousandQos1PublishesUseTheWholeWindowAtHighRtt) {
  SessionRig rig({{"--rtt-ms", "300"}});
  ASSERT_TRUE(rig.run_until_ready());
  MqttTestClient upstream;
  upstream.connect(rig.broker().port(), "upstream");
  upstream.subscribe("telemetry/#", 1);

  constexpr int kCount = 1000;
  int next = 0;
  int delivered = 0;
  int failed = 0;
  auto offer = [&] {
    while (next < kCount && rig.session().publish_slots() > 0) {
      const std::string payload = "seq=" + std::to_string(next);
      const auto admission = rig.session().publish(
          "telemetry/seq", payload, 1, false,
          [&](const PublishOutcome& o) { (o.status == PublishStatus::kDelivered ? delivered : failed)++; });
      ASSERT_EQ(admission, Admission::kAccepted);
      ++next;
    }
  };
  ASSERT_TRUE(rig.run_until(
      [&] {
        offer();
        return delivered + failed == kCount;
      },
      seconds(240)));
  EXPECT_EQ(delivered, kCount);
  EXPECT_EQ(failed, 0);
  // The module's window of 5 was really used (a stop-and-wait client would show 1).
  EXPECT_NE(rig.sim().control("stats").find("\"max_in_flight\":5"), std::string::npos)
      << rig.sim().control("stats");
  const auto got = upstream.wait_for_messages(kCount, seconds(30));
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kCount));
  std::map<std::string, int> seen;
  for (const auto& m : got)
    ++seen[m.payload];
  for (int i = 0; i < kCount; ++i)
    EXPECT_EQ(seen["seq=" + std::to_string(i)], 1) << i;
}

TEST(QuectelSessionTraffic, PayloadCorpusRoundTripsByteExact) {
  for (const bool buffered : {false, true}) {
    SCOPED_TRACE(buffered ? "recv/mode 1 (buffered)" : "recv/mode 0 (in the URC)");
    SessionRig rig({.configure = [buffered](auto& c) { c.buffered_receive = buffered; }});
    ASSERT_TRUE(rig.run_until_ready());
    MqttTestClient cloud;
    cloud.connect(rig.broker().port(), "cloud");
    cloud.subscribe("up/#", 1);
    const auto corpus = payload_corpus();
    // Up: through AT+QMTPUBEX, the prompt and the exact length.
    int done = 0;
    for (std::size_t i = 0; i < corpus.size(); ++i) {
      ASSERT_TRUE(rig.run_until([&] { return rig.session().publish_slots() > 0; }));
      ASSERT_EQ(rig.session().publish("up/" + std::to_string(i), corpus[i], 1, false,
                                      [&](const PublishOutcome& o) {
                                        EXPECT_EQ(o.status, PublishStatus::kDelivered) << o.reason;
                                        ++done;
                                      }),
                Admission::kAccepted);
    }
    ASSERT_TRUE(rig.run_until([&] { return done == static_cast<int>(corpus.size()); }));
    const auto up = cloud.wait_for_messages(corpus.size(), seconds(20));
    ASSERT_EQ(up.size(), corpus.size());
    for (const auto& m : up)
      EXPECT_EQ(m.payload, corpus[std::stoul(m.topic.substr(3))]) << m.topic;
    // Down: +QMTRECV with the length field, or buffered and read with AT+QMTRECV.
    for (std::size_t i = 0; i < corpus.size(); ++i)
      cloud.publish("cmd/" + std::to_string(i), corpus[i], 1);
    ASSERT_TRUE(rig.run_until([&] { return rig.messages.size() == corpus.size(); }));
    for (const auto& m : rig.messages)
      EXPECT_EQ(m.payload, corpus[std::stoul(m.topic.substr(4))]) << m.topic;
  }
}

TEST(QuectelSessionTraffic, TopicsThatCouldInjectAtCommandsAreRefusedBeforeTheLine) {
  SessionRig rig;
  ASSERT_TRUE(rig.run_until_ready());
  const std::string before = rig.sim().control("stats");
  const std::vector<std::string> hostile = {
      "a\",0,0\r\nAT+CFUN=0\r\n",  // quote and CR LF: would end the argument and the command
      "t\rAT+CFUN=1,1",
      "t\nAT+QIDEACT=1",
      "nul\x00tail"s,
      "bad\xff\xfeutf8",
      "over\xc0\xaflong",  // overlong UTF-8 for '/'
      std::string(modem::quectel::kMaxTopic + 1, 't'),
      "wild/+/card",
      "",
  };
  for (const auto& topic : hostile) {
    std::string reason;
    EXPECT_EQ(rig.session().publish(
                  topic, "x", 1, false, [](const PublishOutcome&) { ADD_FAILURE(); }, &reason),
              Admission::kRejected);
    EXPECT_FALSE(reason.empty());
  }
  EXPECT_EQ(rig.session().publish("ok/topic", std::string(modem::quectel::kMaxPublishPayload + 1, 'x'), 1,
                                  false, [](const PublishOutcome&) { ADD_FAILURE(); }),
            Admission::kRejected);
  EXPECT_EQ(rig.session().stats().publishes_rejected, hostile.size() + 1);
  // Nothing reached the module: no publish, and none of the commands the topics tried to inject.
  int delivered = 0;
  ASSERT_EQ(rig.session().publish("ok/after", "x", 1, false, [&](const PublishOutcome&) { ++delivered; }),
            Admission::kAccepted);
  ASSERT_TRUE(rig.run_until([&] { return delivered == 1; }));  // everything before it has been seen
  const std::string stats = rig.sim().control("stats");
  EXPECT_NE(stats.find("\"AT+QMTPUBEX\":1,"), std::string::npos) << stats;  // only the good one
  EXPECT_EQ(stats.find("AT+CFUN"), std::string::npos) << stats;
  EXPECT_EQ(stats.find("AT+QIDEACT"), std::string::npos) << stats;
  EXPECT_EQ(before.find("AT+QMTPUBEX"), std::string::npos);
}

TEST(QuectelSessionTraffic, GarbageAndOneByteReadsDuringBringUpAndRecovery) {
  SessionRig rig({{"--latency-ms", "5"}});
  ASSERT_EQ(rig.sim().control("split 1"), "ok");
  ASSERT_EQ(rig.sim().control("garbage 40"), "ok");
  ASSERT_TRUE(rig.run_until_ready());
  ASSERT_EQ(rig.sim().control("garbage 40"), "ok");
  ASSERT_EQ(rig.sim().control("qmtstat 0 1"), "ok");
  ASSERT_TRUE(rig.run_until_ready_again());
  int delivered = 0;
  ASSERT_EQ(rig.session().publish(
                "t/x", "after the noise", 1, false,
                [&](const PublishOutcome& o) { delivered += o.status == PublishStatus::kDelivered; }),
            Admission::kAccepted);
  ASSERT_TRUE(rig.run_until([&] { return delivered == 1; }));
}

TEST(QuectelSessionTraffic, LostSessionFailsItsPublishesSoTheCallerCanRetry) {
  SessionRig rig;
  ASSERT_TRUE(rig.run_until_ready());
  ASSERT_EQ(rig.sim().control("network down"), "ok");  // no PUBACK will come
  std::vector<PublishOutcome> outcomes;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(
        rig.session().publish("t/x", "m", 1, false, [&](const PublishOutcome& o) { outcomes.push_back(o); }),
        Admission::kAccepted);
  }
  ASSERT_TRUE(rig.run_until(
      [&] { return rig.at_trace().commands().size() > 0 && rig.session().publish_slots() == 2; }));
  ASSERT_EQ(rig.sim().control("qmtstat 0 1"), "ok");
  ASSERT_TRUE(rig.run_until([&] { return outcomes.size() == 3; }));
  for (const auto& o : outcomes)
    EXPECT_EQ(o.status, PublishStatus::kFailed);
}

}  // namespace
