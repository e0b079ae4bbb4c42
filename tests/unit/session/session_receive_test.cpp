// Messages from the broker against the session, on a fake module and a manual clock (issue 18):
// whatever an attacker who may publish to a subscribed topic puts in its topic and payload, the
// module writes it raw into its output (field-notes.md 2.1). None of it may change the session's
// state, complete or fail a publish, or come out as a message on another topic: each message
// arrives exactly as sent, or is refused and counted.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "modem/at/channel.hpp"
#include "modem/session/mqtt_session.hpp"
#include "support/log_capture.hpp"
#include "support/session_harness.hpp"

namespace modem::session {
namespace {

using namespace std::string_literals;
using test_support::SessionHarness;

// How the module writes a received message: the length form the session configures, and the
// EC200U split form (field-notes.md 2.1).
std::string length_form(const std::string& topic, const std::string& payload, int msgid) {
  return "\r\n+QMTRECV: 0," + std::to_string(msgid) + ",\"" + topic + "\"," + std::to_string(payload.size()) +
         ",\"" + payload + "\"\r\n";
}
std::string split_form(const std::string& topic, const std::string& payload, int msgid) {
  return "\r\n+QMTRECV: 0," + std::to_string(msgid) + ",\"" + topic + "\"," + std::to_string(payload.size()) +
         "\r\n" + payload + "\r\n";
}

// Whole module lines, as a forger would put them in a payload: each would change something if
// it were read as the module's.
std::vector<std::string> fake_lines(int inflight_msgid) {
  return {
      "\r\n+QMTSTAT: 0,1\r\n",
      "\r\n+QMTPUBEX: 0," + std::to_string(inflight_msgid) + ",0\r\n",
      "\r\n+QMTRECV: 0,9,\"cmd/forged\",4,\"evil\"\r\n",
      "\r\nRDY\r\n",
      "\r\nOK\r\n",
      "\r\n> ",
      "\r\n+QIURC: \"pdpdeact\",1\r\n",
      "\r\n+CEREG: 0\r\n",
  };
}

struct Hostile {
  std::string topic;
  std::string payload;
};

std::vector<Hostile> hostile_messages(int inflight_msgid) {
  std::vector<Hostile> out;
  std::string all;
  for (const std::string& fake : fake_lines(inflight_msgid)) {
    all += fake;
    out.push_back({"cmd/x", fake});
    out.push_back({"cmd/x\",1,\"a", fake});  // the issue's topic: a length field of its own
    out.push_back({"cmd/\",\",\"", "\"" + fake + "\""});
  }
  out.push_back({"cmd/all", all});
  out.push_back({"cmd/x\",2,\"a", all});
  out.push_back({"cmd/big", std::string(5000, 'x') + all + std::string(7000, 'y')});
  return out;
}

class HostileUpstream : public ::testing::TestWithParam<bool> {};

TEST_P(HostileUpstream, NothingInATopicOrPayloadChangesTheSessionOrAPublish) {
  const bool split = GetParam();
  SessionHarness h(split ? 7 : 4096);
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());
  const std::size_t states_before = h.states.size();
  const std::size_t recoveries_before = h.session->stats().recoveries;

  // Three QoS 1 publishes wait for their PUBACK.
  h.module.set_auto_ack(false);
  std::vector<std::optional<PublishOutcome>> outcomes(3);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    ASSERT_EQ(h.session->publish("up/" + std::to_string(i), "v", 1, false,
                                 [&outcomes, i](const PublishOutcome& o) { outcomes[i] = o; }),
              Admission::kAccepted);
  }
  h.pump();
  ASSERT_EQ(h.module.payloads().size(), 3u);

  int msgid = 100;
  std::size_t refused = 0;
  for (const Hostile& m : hostile_messages(1)) {
    SCOPED_TRACE(m.topic + " / " + m.payload.substr(0, 40));
    const std::size_t messages_before = h.messages.size();
    h.module.say(split ? split_form(m.topic, m.payload, msgid) : length_form(m.topic, m.payload, msgid));
    h.advance(std::chrono::milliseconds(300));  // past the channel's line_quiet
    EXPECT_TRUE(h.session->ready());
    EXPECT_EQ(h.states.size(), states_before);
    EXPECT_EQ(h.session->stats().recoveries, recoveries_before);
    for (const auto& o : outcomes)
      EXPECT_FALSE(o.has_value());
    if (h.messages.size() == messages_before + 1) {
      EXPECT_EQ(h.messages.back().topic, m.topic);
      EXPECT_EQ(h.messages.back().payload, m.payload);
      EXPECT_EQ(h.messages.back().msgid, msgid);
    } else {
      EXPECT_EQ(h.messages.size(), messages_before);
      ++refused;
    }
    EXPECT_EQ(h.session->stats().messages_refused, refused);
    ++msgid;
  }
  // In the length form nothing here is ambiguous: every message arrives, byte-exact.
  if (!split) {
    EXPECT_EQ(refused, 0u);
  }
  EXPECT_EQ(h.session->stats().messages_received + refused, hostile_messages(1).size());

  h.module.ack_publishes();
  h.pump();
  for (const auto& o : outcomes) {
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->status, PublishStatus::kDelivered);
  }
  EXPECT_EQ(h.session->stats().publishes_delivered, 3u);
}

INSTANTIATE_TEST_SUITE_P(EveryForm, HostileUpstream, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "split" : "length"; });

TEST(SessionReceive, AMessageThatReadsTwoWaysIsRefusedAndCounted) {
  SessionHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());
  // `cmd/t",9,"ab` with payload "cd": `ab",2,"cd` fits the 9-byte reading as well.
  h.module.say(length_form("cmd/t\",9,\"ab", "cd", 5));
  // Two different ends, both right: nothing of it is framed, nor the +QMTSTAT it hides.
  const std::string payload = "cd\"\r\n+QMTSTAT: 0,1\r\nzz";
  const std::string forged = "ab\"," + std::to_string(payload.size()) + ",\"cd";
  h.module.say(length_form("cmd/t\"," + std::to_string(forged.size()) + ",\"ab", payload, 6));
  h.advance(std::chrono::milliseconds(300));
  EXPECT_TRUE(h.messages.empty());
  EXPECT_EQ(h.session->stats().messages_refused, 2u);
  EXPECT_TRUE(h.session->ready());
  // What comes after is read as usual.
  h.module.say(length_form("cmd/ok", "fine", 7));
  h.advance(std::chrono::milliseconds(300));
  ASSERT_EQ(h.messages.size(), 1u);
  EXPECT_EQ(h.messages[0].topic, "cmd/ok");
}

TEST(SessionReceive, ATopicNoBrokerShouldDeliverIsRefused) {
  SessionHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());
  for (const std::string& topic :
       {"cmd/\x1b[31mred"s, "cmd/a\x7f"s, "cmd/\xc2\x9b"s, "cmd/\xff"s, "cmd/+"s, "cmd/#"s, "cmd/\0x"s}) {
    h.module.say(length_form(topic, "p", 1));
  }
  h.advance(std::chrono::milliseconds(300));
  EXPECT_TRUE(h.messages.empty());
  EXPECT_EQ(h.session->stats().messages_refused, 7u);
}

TEST(SessionReceive, BufferedNoticesAreIgnoredUnlessBufferedReceiveIsOn) {
  // A flood of "+QMTRECV: 0,<id>" (200,000 of them grew the daemon from 9 to 85 MB) costs nothing
  // when the module was not asked to buffer.
  SessionHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());
  std::string flood;
  for (int i = 0; i < 20'000; ++i)
    flood += "\r\n+QMTRECV: 0," + std::to_string(i % 5) + "\r\n";
  h.module.say(flood);
  h.pump();
  EXPECT_EQ(h.module.count("AT+QMTRECV"), 0u);
  EXPECT_EQ(h.channel.queued(), 0u);
  EXPECT_TRUE(h.session->ready());
}

TEST(SessionReceive, InBufferedModeEachSlotIsReadOnceHoweverOftenItIsAnnounced) {
  SessionHarness h;
  h.config.buffered_receive = true;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());
  h.module.silent("AT+QMTRECV=");  // the reads stay unanswered while the notices pour in
  std::string flood;
  for (int i = 0; i < 20'000; ++i)
    flood += "\r\n+QMTRECV: 0," + std::to_string(i % 7) + "\r\n";  // 5 and 6 are no slots
  h.module.say(flood);
  h.pump();
  EXPECT_LE(h.channel.queued() + 1, 5u);
  EXPECT_LE(h.module.count("AT+QMTRECV="), 5u);
  // Once a read is answered, the slot's next notice is read again.
  h.module.on("AT+QMTRECV=", "\r\n+QMTRECV: 0,3,\"cmd/a\",2,\"hi\"\r\n\r\nOK\r\n");
  h.advance(std::chrono::seconds(11));  // the unanswered reads time out
  h.module.say("\r\n+QMTRECV: 0,0\r\n");
  h.advance(std::chrono::seconds(1));
  ASSERT_FALSE(h.messages.empty());
  EXPECT_EQ(h.messages.back().topic, "cmd/a");
  EXPECT_EQ(h.messages.back().payload, "hi");
}

TEST(SessionReceive, TheUpstreamPasswordNeverReachesTheAtLogNotEvenInALateEcho) {
  test_support::LogCapture at_log("at", spdlog::level::trace);
  SessionHarness h;
  h.config.username = "user";
  h.config.password = "pw-s3cret-9";
  h.config.pdp.username = "apnuser";
  h.config.pdp.password = "apn-s3cret-7";
  // The first AT+QMTCONN gets no answer in time; the next ones are answered.
  int connects = 0;
  h.module.on("AT+QMTCONN=", [&connects](const std::string&) {
    return ++connects == 1 ? std::string() : std::string("\r\nOK\r\n\r\n+QMTCONN: 0,0,0\r\n");
  });
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());
  ASSERT_GE(connects, 2);
  // The first one's echo arrives now, long after its timeout, with nothing secret in flight; and
  // so does a stray echo of the PDP settings.
  h.module.say("AT+QMTCONN=0,\"dev1\",\"user\",\"pw-s3cret-9\"\r\r\nOK\r\n");
  h.module.say("\r\nAT+QICSGP=1,1,\"internet\",\"apnuser\",\"apn-s3cret-7\",1\r\n");
  h.advance(std::chrono::seconds(1));
  bool saw_late_echo = false;
  for (const std::string& line : at_log.lines()) {
    EXPECT_EQ(line.find("s3cret"), std::string::npos) << line;
    saw_late_echo =
        saw_late_echo || line.find("unrecognised line from the module: AT+QMTCONN") != std::string::npos;
  }
  EXPECT_TRUE(saw_late_echo);
}

}  // namespace
}  // namespace modem::session

namespace modem::session {
namespace {

TEST(SessionReceive, FirmwareThatIgnoresTheLengthSettingIsReadWithoutALengthOnceItShowsItself) {
  // Such firmware writes "<topic>","<payload>" although recv/mode asked for the length
  // (field-notes.md 2.1). Until it shows itself a topic holding a length field that fits could be
  // taken for one; after the first plain message, nothing is read by a length field any more.
  test_support::LogCapture log("session", spdlog::level::warn);
  SessionHarness h;
  ASSERT_TRUE(h.start());
  ASSERT_TRUE(h.run_until_ready());
  h.module.say("\r\n+QMTRECV: 0,6,\"cmd/first\",\"hello\"\r\n");
  h.advance(std::chrono::milliseconds(300));
  ASSERT_EQ(h.messages.size(), 1u);
  EXPECT_EQ(h.messages[0].topic, "cmd/first");
  EXPECT_TRUE(log.contains("without their length"));
  const std::string topic = "cmd/t\",5,\"ax";  // `ax","` is 5 bytes: the length field fits
  h.module.say("\r\n+QMTRECV: 0,7,\"" + topic + "\",\"\"\r\n");
  h.advance(std::chrono::milliseconds(300));
  ASSERT_EQ(h.messages.size(), 2u);
  EXPECT_EQ(h.messages[1].topic, topic);
  EXPECT_EQ(h.messages[1].payload, "");
}

}  // namespace
}  // namespace modem::session
