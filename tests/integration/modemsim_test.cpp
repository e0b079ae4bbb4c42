// modemsim end to end: a real mosquitto on a free loopback port, the real modemsim binary on a
// pseudo-terminal, and the test typing at it as a person with picocom would. Every response is
// compared byte for byte with what the application notes and field notes document.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "modemsim_terminal.hpp"
#include "support/modemsim_process.hpp"
#include "support/mosquitto_broker.hpp"
#include "support/mqtt_test_client.hpp"

namespace {

using namespace std::string_literals;
using std::chrono::milliseconds;
using std::chrono::seconds;
using test_support::AtTerminal;
using test_support::ModemsimProcess;
using test_support::MosquittoBroker;
using test_support::MqttTestClient;

using modemsim_e2e::info;
using modemsim_e2e::kError;
using modemsim_e2e::kOk;
using Modemsim = modemsim_e2e::ModemsimTerminal;

TEST_F(Modemsim, IdentityNetworkAndSimCommandsAnswerAsDocumented) {
  expect("AT", kOk);
  expect("ATI", info({"Quectel", "EC200U", "Revision: EC200UCNAAR02A05M08"}) + kOk);
  expect("AT+CGMM", info({"EC200U"}) + kOk);
  expect("AT+CGMR", info({"EC200UCNAAR02A05M08"}) + kOk);
  expect("AT+GSN", info({"866123456789012"}) + kOk);
  expect("AT+CGSN", info({"866123456789012"}) + kOk);
  expect("AT+CIMI", info({"001010123456789"}) + kOk);
  expect("AT+QCCID", info({"+QCCID: 89860012345678901234"}) + kOk);
  expect("AT+CMEE=1", kOk);
  expect("AT+CMEE?", info({"+CMEE: 1"}) + kOk);
  expect("AT+CPIN?", info({"+CPIN: READY"}) + kOk);
  expect("AT+CSQ", info({"+CSQ: 24,99"}) + kOk);
  expect("AT+CREG?", info({"+CREG: 0,1"}) + kOk);
  expect("AT+CGREG?", info({"+CGREG: 0,1"}) + kOk);
  expect("AT+CEREG?", info({"+CEREG: 0,1"}) + kOk);
  expect("AT+COPS?", info({"+COPS: 0,0,\"modemsim\",7"}) + kOk);
  expect("AT+CFUN?", info({"+CFUN: 1"}) + kOk);
  expect("AT+QNOSUCH", kError);  // unknown commands answer ERROR, as a module does
}

TEST_F(Modemsim, SimFaultsGiveTheDocumentedErrors) {
  EXPECT_EQ(sim->control("sim absent"), "ok");
  expect("AT+CPIN?", "\r\n+CME ERROR: 10\r\n");
  expect("AT+CIMI", "\r\n+CME ERROR: 10\r\n");
  EXPECT_EQ(sim->control("sim pin"), "ok");
  expect("AT+CPIN?", info({"+CPIN: SIM PIN"}) + kOk);
  expect("AT+CREG?", info({"+CREG: 0,0"}) + kOk);  // locked SIM: not registered, not searching
}

TEST_F(Modemsim, PdpContextActivationFollowsTheFieldNotes) {
  expect("AT+QMTOPEN=0,\"broker\",1883", kOk);
  expect_urc("+QMTOPEN: 0,3");  // no active PDP context
  expect("AT+QICSGP=1,1,\"internet\",\"user\",\"pw\",1", kOk);
  expect("AT+QICSGP=1", info({"+QICSGP: 1,\"internet\",\"user\",\"pw\",1"}) + kOk);
  expect("AT+QIACT=1", kOk);
  expect("AT+QIACT=1", kError);  // field-notes.md 1.1: already active answers a bare ERROR
  expect("AT+QIACT?", info({"+QIACT: 1,1,1,\"10.64.1.2\""}) + kOk);
  expect("AT+QIDEACT=1", kOk);
  expect("AT+QIACT?", kOk);
}

TEST_F(Modemsim, QmtcfgWritesReadBackAndAreRefusedWhileOpen) {
  expect("AT+QMTCFG=\"version\",0,4", kOk);
  expect("AT+QMTCFG=\"version\",0", info({"+QMTCFG: \"version\",4"}) + kOk);
  expect("AT+QMTCFG=\"pdpcid\",0,1", kOk);
  expect("AT+QMTCFG=\"keepalive\",0,60", kOk);
  expect("AT+QMTCFG=\"keepalive\",0", info({"+QMTCFG: \"keepalive\",60"}) + kOk);
  expect("AT+QMTCFG=\"session\",0,0", kOk);
  expect("AT+QMTCFG=\"session\",0", info({"+QMTCFG: \"session\",0"}) + kOk);
  expect("AT+QMTCFG=\"timeout\",0,10,2,1", kOk);
  expect("AT+QMTCFG=\"timeout\",0", info({"+QMTCFG: \"timeout\",10,2,1"}) + kOk);
  expect("AT+QMTCFG=\"will\",0,1,1,1,\"dev/state\",\"offline\"", kOk);
  expect("AT+QMTCFG=\"will\",0", info({"+QMTCFG: \"will\",1,1,1,\"dev/state\",\"offline\""}) + kOk);
  expect("AT+QMTCFG=\"recv/mode\",0,0,1", kOk);
  expect("AT+QMTCFG=\"recv/mode\",0", info({"+QMTCFG: \"recv/mode\",0,1"}) + kOk);
  expect("AT+QMTCFG=\"ssl\",0,0", kOk);
  expect("AT+QMTCFG=\"qmtping\",0,10", kOk);
  expect("AT+QMTCFG=\"keepalive\",0,5000", "\r\n+CME ERROR: 50\r\n");
  expect("AT+QMTCFG=\"will\",0,1", "\r\n+CME ERROR: 50\r\n");  // will needs qos, retain, topic, message
  open_and_connect();
  expect("AT+QMTCFG=\"keepalive\",0,30", kError);  // "If MQTT connection is established: ERROR"
}

TEST_F(Modemsim, OpenConnectStatesAndTheOccupiedIdentifier) {
  open_and_connect();
  expect("AT+QMTOPEN?", info({"+QMTOPEN: 0,\"broker.example.com\",1883"}) + kOk);
  expect("AT+QMTCONN?", info({"+QMTCONN: 0,3"}) + kOk);
  expect("AT+QMTOPEN=0,\"broker.example.com\",1883", kOk);
  expect_urc("+QMTOPEN: 0,2");  // MQTT identifier is occupied
  expect("AT+QMTDISC=0", kOk);
  expect_urc("+QMTDISC: 0,0");
  expect("AT+QMTCONN?", kOk);
  expect("AT+QMTCLOSE=0", kError);  // nothing open any more
}

TEST_F(Modemsim, PublishedPayloadArrivesByteExactAtEveryQos) {
  MqttTestClient subscriber;
  subscriber.connect(broker->port(), "observer");
  subscriber.subscribe("dev/+/data", 2);
  open_and_connect();
  // Quotes, commas, CR, LF, NUL, Ctrl-Z, ESC, bytes >= 0x80, a fake final result and a fake prompt.
  const std::string payload = "{\"a\":\"x,y\"}\r\nOK\r\n\x00\x1a\x1b\xff\x80> end"s;
  ASSERT_EQ(payload.size(), 27u);
  for (int qos = 0; qos <= 2; ++qos) {
    const int msgid = qos == 0 ? 0 : 10 + qos;
    const std::string topic = "dev/" + std::to_string(qos) + "/data";
    expect("AT+QMTPUBEX=0," + std::to_string(msgid) + "," + std::to_string(qos) + ",0,\"" + topic + "\"," +
               std::to_string(payload.size()),
           "\r\n> ");
    EXPECT_EQ(term->exchange(payload, "\r\n+QMTPUBEX: 0," + std::to_string(msgid) + ",0\r\n"),
              kOk + "\r\n+QMTPUBEX: 0," + std::to_string(msgid) + ",0\r\n");
  }
  const auto got = subscriber.wait_for_messages(3, seconds(10));
  ASSERT_EQ(got.size(), 3u);
  for (const auto& m : got)
    EXPECT_EQ(m.payload, payload) << m.topic;
  expect("AT+QMTPUBEX=0,1,1,0,\"dev/x/data\",1501", kError);  // over the 1500-byte limit: no prompt
}

TEST_F(Modemsim, QmtpubInlineAndCtrlZForms) {
  MqttTestClient subscriber;
  subscriber.connect(broker->port(), "observer");
  subscriber.subscribe("t/#", 1);
  open_and_connect();
  expect("AT+QMTPUB=0,1,1,0,\"t/inline\",\"123\"", kOk);
  expect_urc("+QMTPUB: 0,1,0");
  expect("AT+QMTPUB=0,2,1,0,\"t/ctrlz\"", "\r\n> ");
  EXPECT_EQ(term->exchange("hello\x1a", "+QMTPUB: 0,2,0\r\n"), kOk + "\r\n+QMTPUB: 0,2,0\r\n");
  const auto got = subscriber.wait_for_messages(2, seconds(10));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].payload, "123");
  EXPECT_EQ(got[1].payload, "hello");
}

struct RecvMode {
  int mode;
  int with_length;
};
void PrintTo(const RecvMode& m, std::ostream* os) {
  *os << "recv/mode " << m.mode << "," << m.with_length;
}

class ModemsimRecv : public Modemsim, public ::testing::WithParamInterface<RecvMode> {};

TEST_P(ModemsimRecv, BrokerPublishComesOutAsTheDocumentedQmtrecv) {
  const auto [mode, with_length] = GetParam();
  expect("AT+QMTCFG=\"recv/mode\",0," + std::to_string(mode) + "," + std::to_string(with_length), kOk);
  open_and_connect();
  expect("AT+QMTSUB=0,1,\"cmd/#\",1", kOk);
  expect_urc("+QMTSUB: 0,1,0,1");
  MqttTestClient publisher;
  publisher.connect(broker->port(), "cloud");
  const std::string payload = "{\"relay\":1,\"note\":\"a, b\"}\r\nline2";
  publisher.publish("cmd/relay", payload, 1);
  const std::string length = with_length ? std::to_string(payload.size()) + "," : "";
  if (mode == 0) {
    // field-notes.md 2.1: the payload raw inside the quotes, CR LF and all; msgid 1 (QoS 1).
    const std::string urc = "+QMTRECV: 0,1,\"cmd/relay\"," + length + "\"" + payload + "\"";
    EXPECT_EQ(term->read_until(urc + "\r\n"), "\r\n" + urc + "\r\n");
  } else {
    expect_urc("+QMTRECV: 0,0");  // buffered in slot 0
    expect("AT+QMTRECV?", info({"+QMTRECV: 0,1,0,0,0,0"}) + kOk);
    expect("AT+QMTRECV=0,0", "\r\n+QMTRECV: 0,1,\"cmd/relay\"," + length + "\"" + payload + "\"\r\n" + kOk);
    expect("AT+QMTRECV?", info({"+QMTRECV: 0,0,0,0,0,0"}) + kOk);
    expect("AT+QMTRECV=0", kOk);  // nothing buffered
  }
}

INSTANTIATE_TEST_SUITE_P(EveryForm, ModemsimRecv,
                         ::testing::Values(RecvMode{0, 0}, RecvMode{0, 1}, RecvMode{1, 0}, RecvMode{1, 1}),
                         [](const auto& info) {
                           return "mode" + std::to_string(info.param.mode) + "_length" +
                                  std::to_string(info.param.with_length);
                         });

TEST_F(Modemsim, UnsubscribeStopsDelivery) {
  open_and_connect();
  expect("AT+QMTSUB=0,5,\"a/b\",0,\"c/d\",1", kOk);
  expect_urc("+QMTSUB: 0,5,0,0,1");
  expect("AT+QMTUNS=0,6,\"a/b\"", kOk);
  expect_urc("+QMTUNS: 0,6,0");
}

TEST_F(Modemsim, InFlightWindowOfFiveThenError) {
  open_and_connect();
  ASSERT_EQ(sim->control("network down"), "ok");  // no PUBACK can come back
  for (int id = 1; id <= 5; ++id) {
    expect("AT+QMTPUBEX=0," + std::to_string(id) + ",1,0,\"w\",1", "\r\n> ");
    EXPECT_EQ(term->exchange("x", kOk), kOk);
  }
  expect("AT+QMTPUBEX=0,6,1,0,\"w\",1", kError);  // a 6th QoS 1 publish exceeds the window
  ASSERT_EQ(sim->control("network up"), "ok");
  std::string urcs = term->read_until("+QMTPUBEX: 0,5,0\r\n");
  for (int id = 1; id <= 5; ++id) {
    EXPECT_NE(urcs.find("+QMTPUBEX: 0," + std::to_string(id) + ",0\r\n"), std::string::npos) << urcs;
  }
  EXPECT_NE(sim->control("stats").find("\"max_in_flight\":5"), std::string::npos);
}

TEST_F(Modemsim, UnacknowledgedPublishIsReportedRetransmittedThenFailed) {
  expect("AT+QMTCFG=\"timeout\",0,1,2,1", kOk);  // 1 s packet timeout, 2 retries, notices on
  open_and_connect();
  ASSERT_EQ(sim->control("network down"), "ok");
  expect("AT+QMTPUBEX=0,7,1,0,\"r\",1", "\r\n> ");
  EXPECT_EQ(term->exchange("x", kOk), kOk);
  expect_urc("+QMTPUBEX: 0,7,1,1");
  expect_urc("+QMTPUBEX: 0,7,1,2");
  expect_urc("+QMTPUBEX: 0,7,2");
}

TEST_F(Modemsim, ConnackRefusalCodesForBadCredentials) {
  start({}, test_support::BrokerOptions{{{"gateway", "right-password"}}});
  expect("AT+QICSGP=1,1,\"internet\",\"\",\"\",1", kOk);
  expect("AT+QIACT=1", kOk);
  expect("AT+QMTOPEN=0,\"b\",1883", kOk);
  expect_urc("+QMTOPEN: 0,0");
  expect("AT+QMTCONN=0,\"dev\",\"gateway\",\"wrong\"", kOk);
  const std::string urc =
      term->read_until([](const std::string& out) { return out.size() > 2 && out.ends_with("\r\n"); });
  EXPECT_TRUE(urc == "\r\n+QMTCONN: 0,0,4\r\n" || urc == "\r\n+QMTCONN: 0,0,5\r\n") << urc;
}

TEST_F(Modemsim, QmtstatFaultDropsTheSession) {
  open_and_connect();
  EXPECT_EQ(sim->control("qmtstat 0 1"), "ok");
  expect_urc("+QMTSTAT: 0,1");
  expect("AT+QMTCONN?", kOk);
  EXPECT_EQ(sim->control("qmtstat 3 1"), "err client 3 is not open");
}

TEST_F(Modemsim, PdpDeactivationDropsSessionsUntilReactivated) {
  open_and_connect();
  EXPECT_EQ(sim->control("pdp-deact 1"), "ok");
  expect_urc("+QIURC: \"pdpdeact\",1");
  expect_urc("+QMTSTAT: 0,1");
  expect("AT+QMTOPEN=0,\"b\",1883", kOk);
  expect_urc("+QMTOPEN: 0,3");
  expect("AT+QIACT=1", kOk);
  expect("AT+QMTOPEN=0,\"b\",1883", kOk);
  expect_urc("+QMTOPEN: 0,0");
}

TEST_F(Modemsim, RebootLosesEverythingAndSendsTheBootUrcs) {
  open_and_connect();
  EXPECT_EQ(sim->control("reboot"), "ok");
  const std::string boot =
      info({"RDY", "+CFUN: 1", "+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE", "+QIND: PB DONE"});
  EXPECT_EQ(term->read_until("+QIND: PB DONE\r\n"), boot);
  EXPECT_EQ(term->exchange("AT\r", kOk), "AT\r" + kOk);  // echo is back on after boot
  expect("ATE0", "ATE0\r" + kOk);
  expect("AT+QIACT?", kOk);  // no context survives
  expect("AT+QMTCONN?", kOk);
}

TEST_F(Modemsim, CfunResetAnswersOkThenReboots) {
  EXPECT_EQ(
      term->exchange("AT+CFUN=1,1\r", "+QIND: PB DONE\r\n"),
      kOk + info({"RDY", "+CFUN: 1", "+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE", "+QIND: PB DONE"}));
}

TEST_F(Modemsim, NetworkDownLosesRegistrationAndPdpActivation) {
  expect("AT+CEREG=1", kOk);
  expect("AT+QICSGP=1,1,\"internet\",\"\",\"\",1", kOk);
  EXPECT_EQ(sim->control("network down"), "ok");
  expect_urc("+CEREG: 2");
  expect("AT+QIACT=1", kError);
  expect("AT+CSQ", info({"+CSQ: 99,99"}) + kOk);
  EXPECT_EQ(sim->control("network up"), "ok");
  expect_urc("+CEREG: 1");
  expect("AT+QIACT=1", kOk);
}

TEST_F(Modemsim, MutedModuleAnswersNothingThenRecovers) {
  EXPECT_EQ(sim->control("mute 300"), "ok");
  term->write("AT+CGMM\r");  // dropped: a stuck module answers nothing
  // Wait for the module to answer again, by asking until it does (bounded).
  std::string answered;
  for (int attempt = 0; attempt < 100 && answered.find(kOk) == std::string::npos; ++attempt) {
    answered = term->exchange("AT+CGMR\r", kOk, milliseconds(100));
  }
  EXPECT_NE(answered.find("EC200UCNAAR02A05M08"), std::string::npos);
  EXPECT_EQ(answered.find("\r\nEC200U\r\n"), std::string::npos)
      << "the command sent while muted was answered";
}

TEST_F(Modemsim, GarbageAndSplitDeliveryOnTheLine) {
  EXPECT_EQ(sim->control("garbage 64"), "ok");
  EXPECT_EQ(sim->control("split 1"), "ok");
  const std::string out = term->exchange("ATI\r", kOk);
  const std::string expected = info({"Quectel", "EC200U", "Revision: EC200UCNAAR02A05M08"}) + kOk;
  ASSERT_GE(out.size(), 64 + expected.size());
  EXPECT_TRUE(out.ends_with(expected));
}

TEST_F(Modemsim, BrokerGoingAwayIsReportedAsClosedByPeer) {
  open_and_connect();
  broker->stop();
  expect_urc("+QMTSTAT: 0,1");
}

TEST_F(Modemsim, StatsCountCommandsMessagesAndSessions) {
  open_and_connect();
  expect("AT+QMTPUBEX=0,1,1,0,\"s\",2", "\r\n> ");
  EXPECT_EQ(term->exchange("hi", "+QMTPUBEX: 0,1,0\r\n"), kOk + "\r\n+QMTPUBEX: 0,1,0\r\n");
  const std::string stats = sim->control("stats");
  EXPECT_NE(stats.find("\"AT+QMTPUBEX\":1"), std::string::npos) << stats;
  EXPECT_NE(stats.find("\"AT+QMTCONN\":1"), std::string::npos) << stats;
  EXPECT_NE(stats.find("\"messages_up\":1"), std::string::npos) << stats;
  EXPECT_NE(stats.find("\"sessions\":1"), std::string::npos) << stats;
  EXPECT_EQ(sim->control("bogus"), sim->control("bogus"));
  EXPECT_TRUE(sim->control("bogus").starts_with("err unknown command"));
}

TEST_F(Modemsim, TimingModelKeepsEveryAnswerIntact) {
  term.reset();
  sim.reset();
  sim.emplace(
      ModemsimProcess::start({broker->port(), {"--baud", "9600", "--latency-ms", "20", "--rtt-ms", "50"}}));
  term.emplace(sim->link());
  // At 9600 baud the boot URCs may still be on the wire when the port is opened, as with a real
  // module: what comes before the answer to ATE0 is their tail.
  EXPECT_TRUE(term->exchange("ATE0\r", kOk).ends_with("ATE0\r" + kOk));
  open_and_connect();
  expect("AT+QMTPUBEX=0,1,1,0,\"paced\",3", "\r\n> ");
  EXPECT_EQ(term->exchange("abc", "+QMTPUBEX: 0,1,0\r\n"), kOk + "\r\n+QMTPUBEX: 0,1,0\r\n");
}

TEST_F(Modemsim, WillConfiguredByQmtcfgIsPublishedWhenTheLinkDrops) {
  MqttTestClient watcher;
  watcher.connect(broker->port(), "watcher");
  watcher.subscribe("dev/state", 1);
  expect("AT+QMTCFG=\"will\",0,1,1,0,\"dev/state\",\"offline\"", kOk);
  open_and_connect("will-test");
  EXPECT_EQ(sim->control("qmtstat 0 7"), "ok");  // the link dies without a DISCONNECT
  expect_urc("+QMTSTAT: 0,7");
  const auto got = watcher.wait_for_messages(1, seconds(10));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "offline");
}

TEST_F(Modemsim, LongOutagePingFailsThenTheSessionIsClosed) {
  expect("AT+QMTCFG=\"keepalive\",0,1", kOk);
  expect("AT+QMTCFG=\"qmtping\",0,5", kOk);
  open_and_connect();
  ASSERT_EQ(sim->control("network down"), "ok");
  expect_urc("+QMTPING: 0,1");  // after one keep-alive period without a PINGRESP
  expect_urc("+QMTSTAT: 0,2");  // "qmtping" seconds later: PINGREQ timed out
  expect("AT+QMTCONN?", kOk);
}

TEST_F(Modemsim, CfunZeroTakesTheRadioAndTheContextsAway) {
  expect("AT+CREG=1", kOk);
  expect("AT+QICSGP=1,1,\"internet\",\"\",\"\",1", kOk);
  expect("AT+QIACT=1", kOk);
  expect("AT+CFUN=0", kOk);
  expect_urc("+CREG: 0");
  expect("AT+CFUN?", info({"+CFUN: 0"}) + kOk);
  expect("AT+QIACT?", kOk);
  expect("AT+CFUN=1", kOk);
  expect_urc("+CREG: 1");
  expect("AT+QIACT=1", kOk);
}

TEST_F(Modemsim, VerboseTraceShowsTheTrafficButNeverAPassword) {
  start({"-v"});
  expect("AT+QICSGP=1,1,\"internet\",\"apnuser\",\"apn-s3cret\",1", kOk);
  expect("AT+QIACT=1", kOk);
  expect("AT+QMTOPEN=0,\"b\",1883", kOk);
  expect_urc("+QMTOPEN: 0,0");
  expect("AT+QMTCONN=0,\"dev\",\"user\",\"mqtt-s3cret\"", kOk);
  expect_urc("+QMTCONN: 0,0,0");
  const std::string log = sim->log();
  EXPECT_NE(log.find("AT+QMTCONN=0,\"dev\",\"user\",\"***********\""), std::string::npos) << log;
  EXPECT_NE(log.find("+QMTCONN: 0,0,0"), std::string::npos) << log;
  EXPECT_EQ(log.find("s3cret"), std::string::npos) << log;
}

TEST_F(Modemsim, StopsCleanlyAndRemovesItsLink) {
  EXPECT_TRUE(sim->stop());
}

// ---- --model: each personality answers as its own application note where the notes differ --------
// seeds/001: Quectel EC2x & EG9x & EM05 MQTT Application Note (--model ec2x, an EC25).
// seeds/002: Quectel EC200x & EC600x & EG912Y MQTT Application Note (--model ec200x, an EC200S).
// ec200u, the default, is what every test above runs against.

const std::string kCmeError50 = "\r\n+CME ERROR: 50\r\n";

struct ModelCase {
  const char* model;     // --model
  const char* name;      // ATI's second line, AT+CGMM
  const char* revision;  // ATI's "Revision:", AT+CGMR
};
void PrintTo(const ModelCase& c, std::ostream* os) {
  *os << "--model " << c.model;
}

class ModemsimEveryModel : public Modemsim, public ::testing::WithParamInterface<ModelCase> {
 protected:
  void SetUp() override { start({"--model", GetParam().model}); }
};

TEST_P(ModemsimEveryModel, IdentifiesItselfAsTheModuleOfItsDocument) {
  // Quectel's ATI layout (field-notes.md 1.6); the models are those the documents apply to
  // (seeds/001 chapter 1: EC25...; seeds/002 §1.1: EC200S...).
  const auto& c = GetParam();
  expect("ATI", info({"Quectel", c.name, "Revision: "s + c.revision}) + kOk);
  expect("AT+CGMI", info({"Quectel"}) + kOk);
  expect("AT+CGMM", info({c.name}) + kOk);
  expect("AT+CGMR", info({c.revision}) + kOk);
  expect("AT+QGMR", info({c.revision}) + kOk);
  EXPECT_NE(sim->control("stats").find("\"model\":\""s + c.model + "\""), std::string::npos);
}

TEST_P(ModemsimEveryModel, PublishAndReceiveRoundTripIsByteExact) {
  // The path both documents share: QMTOPEN, QMTCONN, QMTSUB, QMTPUBEX with <length> and ">" (no
  // Ctrl-Z), +QMTRECV with <payload_len> (seeds/001 AT+QMTPUBEX and 4.2; seeds/002 §3.3.8, §4.2).
  MqttTestClient cloud;
  cloud.connect(broker->port(), "cloud");
  cloud.subscribe("dev/up", 1);
  expect("AT+QMTCFG=\"recv/mode\",0,0,1", kOk);
  open_and_connect();
  expect("AT+QMTSUB=0,1,\"dev/down\",1", kOk);
  expect_urc("+QMTSUB: 0,1,0,1");

  const std::string up = "{\"a\":\"x,y\"}\r\nOK\r\n\x00\x1a\x1b\xff\x80> end"s;
  expect("AT+QMTPUBEX=0,7,1,0,\"dev/up\"," + std::to_string(up.size()), "\r\n> ");
  EXPECT_EQ(term->exchange(up, "+QMTPUBEX: 0,7,0\r\n"), kOk + "\r\n+QMTPUBEX: 0,7,0\r\n");
  const auto got = cloud.wait_for_messages(1, seconds(10));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].topic, "dev/up");
  EXPECT_EQ(got[0].payload, up);

  const std::string down = "{\"relay\":1,\"note\":\"a, b\"}\r\nline2";
  cloud.publish("dev/down", down, 1);
  const std::string urc = "+QMTRECV: 0,1,\"dev/down\"," + std::to_string(down.size()) + ",\"" + down + "\"";
  EXPECT_EQ(term->read_until(urc + "\r\n"), "\r\n" + urc + "\r\n");
}

INSTANTIATE_TEST_SUITE_P(Quectel, ModemsimEveryModel,
                         ::testing::Values(ModelCase{"ec200u", "EC200U", "EC200UCNAAR02A05M08"},
                                           ModelCase{"ec2x", "EC25", "EC25EFAR06A06M4G"},
                                           ModelCase{"ec200x", "EC200S", "EC200SCNAAR03A12M08"}),
                         [](const auto& info) { return std::string(info.param.model); });

class ModemsimEc2x : public Modemsim {
 protected:
  void SetUp() override { start({"--model", "ec2x"}); }
};

class ModemsimEc200x : public Modemsim {
 protected:
  void SetUp() override { start({"--model", "ec200x"}); }
};

TEST_F(ModemsimEc2x, QmtcfgTestCommandListsSeed001sTenOptions) {
  // seeds/001 AT+QMTCFG test command, as printed (its <retry_times> reads (1-10) there).
  expect("AT+QMTCFG=?",
         info({R"(+QMTCFG: "version",(0-5),(3,4))", R"(+QMTCFG: "pdpcid",(0-5),(1-16))",
               R"(+QMTCFG: "ssl",(0-5),(0,1),(0-5))", R"(+QMTCFG: "keepalive",(0-5),(0-3600))",
               R"(+QMTCFG: "session",(0-5),(0,1))", R"(+QMTCFG: "timeout",(0-5),(1-60),(1-10),(0,1))",
               R"(+QMTCFG: "will",(0-5),(0,1),(0-2),(0,1),"willtopic","willmessage")",
               R"(+QMTCFG: "recv/mode",(0-5),(0,1),(0,1))",
               R"(+QMTCFG: "aliauth",(0-5),"productkey","devicename","devicesecret")",
               R"(+QMTCFG: "qmtping",(0-5),(5-60))"}) +
             kOk);
}

TEST_F(ModemsimEc200x, QmtcfgTestCommandListsSeed002sEighteenOptions) {
  // seeds/002 §3.3.1 test command, in its order, with the ranges of its parameter table.
  const std::string answer = this->answer("AT+QMTCFG=?");
  for (const char* option : {"version", "pdpcid", "ssl", "keepalive", "session", "timeout", "will", "willex",
                             "recv/mode", "aliauth", "qmtping", "send/mode", "onenet", "hwauth", "hwprodid",
                             "dataformat", "view/mode", "edit/timeout"}) {
    EXPECT_NE(answer.find("\r\n+QMTCFG: \""s + option + "\","), std::string::npos) << option;
  }
  EXPECT_NE(answer.find(R"(+QMTCFG: "pdpcid",(0-5),(1-15))"), std::string::npos) << answer;
  EXPECT_TRUE(answer.ends_with(kOk));
}

TEST_F(ModemsimEc2x, Seed002OnlyQmtcfgOptionsAreRefusedAsBadParameters) {
  // seeds/001 AT+QMTCFG has none of them; its error form is "+CME ERROR: <err>" (50: incorrect
  // parameters), a bare ERROR once AT+CMEE=0 turns the codes off.
  for (const std::string write : {"\"dataformat\",0,0,0", "\"view/mode\",0,0", "\"willex\",0,0",
                                  "\"edit/timeout\",0,1,60", "\"send/mode\",0,0", "\"onenet\",0,\"p\",\"k\"",
                                  "\"hwauth\",0,\"p\",\"s\"", "\"hwprodid\",0,\"p\",\"s\",\"n\""}) {
    expect("AT+QMTCFG=" + write, kCmeError50);
  }
  expect("AT+QMTCFG=\"dataformat\",0", kCmeError50);            // nor can they be queried
  expect("AT+QMTCFG=\"aliauth\",0,\"pk\",\"dn\",\"ds\"", kOk);  // seeds/001 has this one
  expect("AT+CMEE=0", kOk);
  expect("AT+QMTCFG=\"view/mode\",0,0", kError);
}

TEST_F(ModemsimEc200x, Seed002OnlyQmtcfgOptionsAreAccepted) {
  // seeds/002 §3.3.1: each answers OK and reads back; hex data (send_mode or recv_mode 1) is not
  // simulated and is refused with 002's bare ERROR (quectel_qmtcfg.cpp says why).
  expect("AT+QMTCFG=\"dataformat\",0,0,0", kOk);
  expect("AT+QMTCFG=\"dataformat\",0", info({"+QMTCFG: \"dataformat\",0,0"}) + kOk);
  expect("AT+QMTCFG=\"view/mode\",0,0", kOk);
  expect("AT+QMTCFG=\"view/mode\",0", info({"+QMTCFG: \"view/mode\",0"}) + kOk);
  expect("AT+QMTCFG=\"send/mode\",0,0", kOk);
  expect("AT+QMTCFG=\"send/mode\",0", info({"+QMTCFG: \"send/mode\",0"}) + kOk);
  expect("AT+QMTCFG=\"edit/timeout\",0,1,60", kOk);
  expect("AT+QMTCFG=\"onenet\",0,\"p\",\"k\"", kOk);
  expect("AT+QMTCFG=\"hwauth\",0,\"p\",\"s\"", kOk);
  expect("AT+QMTCFG=\"hwprodid\",0,\"p\",\"s\",\"n\"", kOk);
  expect("AT+QMTCFG=\"dataformat\",0,1,1", kError);
  expect("AT+QMTCFG=\"send/mode\",0,1", kError);
  expect("AT+QMTCFG=\"nosuch\",0,1", kError);  // seeds/002 writes no +CME ERROR anywhere
}

TEST_F(ModemsimEc2x, PdpContext16IsAccepted) {
  // seeds/001 AT+QMTCFG <cid>: "The range is 1-16".
  expect("AT+QMTCFG=\"pdpcid\",0,16", kOk);
  expect("AT+QMTCFG=\"pdpcid\",0", info({"+QMTCFG: \"pdpcid\",16"}) + kOk);
  expect("AT+QMTCFG=\"pdpcid\",0,17", kCmeError50);
}

TEST_F(ModemsimEc200x, PdpContext16IsRefused) {
  // seeds/002 §3.3.1 <cid>: "1~15".
  expect("AT+QMTCFG=\"pdpcid\",0,16", kError);
  expect("AT+QMTCFG=\"pdpcid\",0,15", kOk);
  expect("AT+QMTCFG=\"pdpcid\",0", info({"+QMTCFG: \"pdpcid\",15"}) + kOk);
}

TEST_F(ModemsimEc2x, TimeoutTakesItsValuesOneByOne) {
  // seeds/001: "timeout",<client_idx>[,<pkt_timeout>[,<retry_times>][,<timeout_notice>]]
  expect("AT+QMTCFG=\"timeout\",0,10", kOk);
  expect("AT+QMTCFG=\"timeout\",0", info({"+QMTCFG: \"timeout\",10,3,0"}) + kOk);
  expect("AT+QMTCFG=\"timeout\",0,20,0", kOk);  // <retry_times> 0-10 in the parameter table
  expect("AT+QMTCFG=\"timeout\",0", info({"+QMTCFG: \"timeout\",20,0,0"}) + kOk);
}

TEST_F(ModemsimEc200x, TimeoutTakesAllThreeValuesOrNone) {
  // seeds/002 §3.3.1: "timeout",<client_idx>[,<pkt_timeout>,<retry_times>,<timeout_notice>]
  expect("AT+QMTCFG=\"timeout\",0,10", kError);
  expect("AT+QMTCFG=\"timeout\",0,10,2", kError);
  expect("AT+QMTCFG=\"timeout\",0,10,2,1", kOk);
  expect("AT+QMTCFG=\"timeout\",0", info({"+QMTCFG: \"timeout\",10,2,1"}) + kOk);
}

TEST_F(ModemsimEc2x, UserNameWithoutPasswordConnects) {
  // seeds/001 AT+QMTCONN=<client_idx>,"<clientID>"[,"<username>"[,"<password>"]]
  expect("AT+QICSGP=1,1,\"internet\",\"\",\"\",1", kOk);
  expect("AT+QIACT=1", kOk);
  expect("AT+QMTOPEN=0,\"b\",1883", kOk);
  expect_urc("+QMTOPEN: 0,0");
  expect("AT+QMTCONN=0,\"dev\",\"gateway\"", kOk);
  expect_urc("+QMTCONN: 0,0,0");
}

TEST_F(ModemsimEc200x, UserNameAndPasswordGoTogetherOrNotAtAll) {
  // seeds/002 §3.3.4 AT+QMTCONN=<client_idx>,<clientid>[,<username>,<password>]; the pair reaches
  // the broker, which accepts only the right one.
  start({"--model", "ec200x"}, test_support::BrokerOptions{{{"gateway", "right-password"}}});
  expect("AT+QICSGP=1,1,\"internet\",\"\",\"\",1", kOk);
  expect("AT+QIACT=1", kOk);
  expect("AT+QMTOPEN=0,\"b\",1883", kOk);
  expect_urc("+QMTOPEN: 0,0");
  expect("AT+QMTCONN=0,\"dev\",\"gateway\"", kError);
  expect("AT+QMTCONN=0,\"dev\",\"gateway\",\"right-password\"", kOk);
  expect_urc("+QMTCONN: 0,0,0");
}

TEST_F(ModemsimEc200x, WillTopicAndMessageAreAtMost256Bytes) {
  // seeds/002 §3.3.1: <willtopic> 1~256 bytes, <willmessage> 0~256 bytes.
  const std::string b256(256, 'w');
  expect("AT+QMTCFG=\"will\",0,1,1,0,\"" + b256 + "\",\"" + b256 + "\"", kOk);
  expect("AT+QMTCFG=\"will\",0,1,1,0,\"" + b256 + "w\",\"m\"", kError);
  expect("AT+QMTCFG=\"will\",0,1,1,0,\"t\",\"" + b256 + "w\"", kError);
  expect("AT+QMTCFG=\"will\",0,1,1,0,\"t\",\"\"", kOk);  // a zero-length will message
}

TEST_F(ModemsimEc2x, WillHasNoDocumentedLimit) {
  // seeds/001 gives <will_topic> and <will_msg> no length.
  const std::string b300(300, 'w');
  expect("AT+QMTCFG=\"will\",0,1,1,0,\"" + b300 + "\",\"" + b300 + "\"", kOk);
}

TEST_F(ModemsimEc200x, WillexTakesTheWillMessageAfterAPromptAndTheBrokerPublishesIt) {
  // seeds/002 §3.3.1 "willex": ">" then <will_len> bytes, then OK; quotes and commas, which an
  // inline "will" cannot carry, arrive byte-exact when the link dies without a DISCONNECT.
  MqttTestClient watcher;
  watcher.connect(broker->port(), "watcher");
  watcher.subscribe("dev/state", 1);
  const std::string will = "{\"state\":\"offline\", \"why\":\"lost\"}";
  expect("AT+QMTCFG=\"willex\",0,1,1,0,\"dev/state\"," + std::to_string(will.size()), "\r\n> ");
  EXPECT_EQ(term->exchange(will, kOk), kOk);
  expect("AT+QMTCFG=\"willex\",0",
         info({"+QMTCFG: \"willex\",1,1,0,\"dev/state\"," + std::to_string(will.size())}) + kOk);
  expect("AT+QMTCFG=\"willex\",0,1,1,0,\"dev/state\",257", kError);  // <will_len> 0~256
  open_and_connect("willex-test");
  EXPECT_EQ(sim->control("qmtstat 0 7"), "ok");  // link not alive: no DISCONNECT, so the will goes out
  expect_urc("+QMTSTAT: 0,7");
  const auto got = watcher.wait_for_messages(1, seconds(10));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, will);
}

TEST_F(ModemsimEc200x, ViewMode1EchoesThePublishedPayloadAfterThePrompt) {
  // seeds/002 §3.3.1 "view/mode" <view_mode> 1: the data typed after ">" is echoed (here under
  // ATE0, where nothing else echoes it); the broker still gets exactly the payload.
  MqttTestClient cloud;
  cloud.connect(broker->port(), "cloud");
  cloud.subscribe("dev/up", 0);
  expect("AT+QMTCFG=\"view/mode\",0,1", kOk);
  open_and_connect();
  const std::string payload = "t=21.5,\"ok\"";
  expect("AT+QMTPUBEX=0,0,0,0,\"dev/up\"," + std::to_string(payload.size()), "\r\n> ");
  EXPECT_EQ(term->exchange(payload, "+QMTPUBEX: 0,0,0\r\n"), payload + kOk + "\r\n+QMTPUBEX: 0,0,0\r\n");
  const auto got = cloud.wait_for_messages(1, seconds(10));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, payload);
}

TEST_F(ModemsimEc200x, ViewMode0LeavesThePayloadUnechoed) {
  expect("AT+QMTCFG=\"view/mode\",0,0", kOk);
  open_and_connect();
  expect("AT+QMTPUBEX=0,0,0,0,\"dev/up\",3", "\r\n> ");
  EXPECT_EQ(term->exchange("abc", "+QMTPUBEX: 0,0,0\r\n"), kOk + "\r\n+QMTPUBEX: 0,0,0\r\n");
}

TEST_F(ModemsimEc2x, QmtstatCode8IsReservedAndCannotBePlayed) {
  // seeds/001 Table 3: codes 1-7, "8-255 Reserved for future use".
  open_and_connect();
  const std::string refused = sim->control("qmtstat 0 8");
  EXPECT_TRUE(refused.starts_with("err +QMTSTAT code 8 is not defined")) << refused;
  EXPECT_NE(refused.find("seeds/001"), std::string::npos) << refused;
  expect("AT+QMTCONN?", info({"+QMTCONN: 0,3"}) + kOk);  // still connected
  EXPECT_EQ(sim->control("qmtstat 0 7"), "ok");
  expect_urc("+QMTSTAT: 0,7");
}

TEST_F(ModemsimEc200x, QmtstatCode8IsPlayedAndCode9IsReserved) {
  // seeds/002 §4.1 Table 4: 8, the client closed the MQTT connection; "9~255" reserved.
  open_and_connect();
  EXPECT_TRUE(sim->control("qmtstat 0 9").starts_with("err +QMTSTAT code 9 is not defined"));
  EXPECT_EQ(sim->control("qmtstat 0 8"), "ok");
  expect_urc("+QMTSTAT: 0,8");
  expect("AT+QMTCONN?", kOk);
}

TEST_F(ModemsimEc2x, BadArgumentsAreCmeErrorsAndStateErrorsABareError) {
  // seeds/001, every QMT command: "If there is an error related to ME functionality: +CME ERROR:
  // <err>"; the state errors it writes as ERROR stay ERROR (QMTCFG while connected, the in-flight
  // window, AT+QMTRECV with no connection).
  expect("AT+QMTOPEN=6,\"b\",1883", kCmeError50);   // <client_idx> 0-5
  expect("AT+QMTOPEN=0,\"b\",65536", kCmeError50);  // <port> 1-65535
  expect("AT+QMTRECV=0", kError);                   // "If there is no MQTT connection: ERROR"
  open_and_connect();
  expect("AT+QMTPUBEX=0,1,1,0,\"t\",1501", kCmeError50);  // 1500 bytes at a time
  expect("AT+QMTSUB=0,0,\"t\",1", kCmeError50);           // <msgID> 1-65535
  expect("AT+QMTCFG=\"keepalive\",0,30", kError);         // "Else the response is: ERROR"
}

TEST_F(ModemsimEc200x, EveryRefusalIsABareError) {
  // seeds/002 writes each error as "ERROR" (若出现错误: ERROR), never +CME ERROR.
  expect("AT+QMTOPEN=6,\"b\",1883", kError);
  expect("AT+QMTCFG=\"keepalive\",0,5000", kError);
  open_and_connect();
  expect("AT+QMTPUBEX=0,1,1,0,\"t\",1501", kError);
}

TEST_F(ModemsimEc2x, QmtpubIsNotACommand) {
  // seeds/001 draws AT+QMTPUB in Figure 1 only, without syntax: AT+QMTPUBEX is its publish.
  open_and_connect();
  expect("AT+QMTPUB=0,1,1,0,\"t\",\"123\"", kError);
}

TEST_F(ModemsimEc200x, QmtpubIsNotACommand) {
  // seeds/002 has only AT+QMTPUBEX (§3.3.8).
  open_and_connect();
  expect("AT+QMTPUB=0,1,1,0,\"t\",\"123\"", kError);
}

TEST_F(Modemsim, UnknownModelDoesNotStart) {
  // It exits with a usage error naming the models (the message: tests/unit/modemsim/options_test.cpp).
  EXPECT_THROW(ModemsimProcess::start({broker->port(), {"--model", "ec21"}}), std::runtime_error);
}

}  // namespace
