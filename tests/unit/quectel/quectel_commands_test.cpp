// Every command builder: the exact text the module gets (compared with captured traffic where a
// capture exists), the response prefixes, the timeouts, the completing URC and which lines it
// accepts, and the log text with secrets masked.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "modem/quectel/quectel_at.hpp"
#include "support/command_case.hpp"

namespace modem::quectel {
namespace {

using namespace std::string_literals;
using std::chrono::seconds;

using test_support::CommandCase;

TEST(QuectelCommands, OneShotCommands) {
  const std::vector<CommandCase> cases = {
      {"iccid", iccid(), "AT+QCCID", {"+QCCID:"}},
      {"qcsq", extended_signal(), "AT+QCSQ", {"+QCSQ:"}},
      {"qnwinfo", network_info(), "AT+QNWINFO", {"+QNWINFO:"}},
      {"qiact", activate_pdp(1), "AT+QIACT=1", {}, false, seconds(150)},  // field-notes.md 1.1
      {"qiact?", query_pdp(), "AT+QIACT?", {"+QIACT:"}},
      {"qideact", deactivate_pdp(1), "AT+QIDEACT=1", {}, false, seconds(40)},  // field-notes.md 1.1
      // AT+QMTCFG: 300 ms. The AN's example (chapter 5) for recv/mode.
      {"recv/mode", mqtt_receive_mode(0, 0, true), "AT+QMTCFG=\"recv/mode\",0,0,1"},
      {"recv/mode buffered", mqtt_receive_mode(2, 1, false), "AT+QMTCFG=\"recv/mode\",2,1,0"},
      {"version", mqtt_version(0, 4), "AT+QMTCFG=\"version\",0,4"},
      {"pdpcid", mqtt_pdp_context(0, 1), "AT+QMTCFG=\"pdpcid\",0,1"},
      {"keepalive", mqtt_keepalive(0, 120), "AT+QMTCFG=\"keepalive\",0,120"},
      {"session clean", mqtt_clean_session(0, true), "AT+QMTCFG=\"session\",0,1"},
      {"session kept", mqtt_clean_session(1, false), "AT+QMTCFG=\"session\",1,0"},
      {"timeout", mqtt_timeouts(0, 5, 3, false), "AT+QMTCFG=\"timeout\",0,5,3,0"},
      {"timeout notice", mqtt_timeouts(0, 10, 2, true), "AT+QMTCFG=\"timeout\",0,10,2,1"},
      {"no will", mqtt_will(0, std::nullopt), "AT+QMTCFG=\"will\",0,0"},
      {"will", mqtt_will(0, Will{"dev/42/status", "offline", 1, true}),
       "AT+QMTCFG=\"will\",0,1,1,1,\"dev/42/status\",\"offline\""},
      {"will qos 0", mqtt_will(3, Will{"s", "gone", 0, false}), "AT+QMTCFG=\"will\",3,1,0,0,\"s\",\"gone\""},
      // The buffered read-back (field-notes.md 1.15); the answer may run long.
      {"qmtrecv all", mqtt_read_buffered(0, std::nullopt), "AT+QMTRECV=0", {"+QMTRECV:"}, false, seconds(10)},
      {"qmtrecv one", mqtt_read_buffered(0, 3), "AT+QMTRECV=0,3", {"+QMTRECV:"}, false, seconds(10)},
  };
  for (const CommandCase& c : cases)
    test_support::expect_one_shot_command(c);
}

TEST(QuectelCommands, QicsgpMasksThePasswordAndPicksTheAuthentication) {
  // No credentials: <authentication> 0. field-notes.md 1.1 and the field guide send 1 (PAP) with
  // empty credentials, which the modules accept too; 0 says what is meant.
  const at::Command open_apn = configure_pdp(PdpSettings{1, PdpType::kIpv4, "wsim", "", ""});
  EXPECT_EQ(open_apn.text, "AT+QICSGP=1,1,\"wsim\",\"\",\"\",0");
  EXPECT_FALSE(open_apn.sensitive());  // nothing secret in it
  EXPECT_EQ(open_apn.timeout, seconds(2));

  const at::Command with_password =
      configure_pdp(PdpSettings{2, PdpType::kIpv4v6, "iot.example", "gateway", "Pa55,w0rd"});
  EXPECT_EQ(with_password.text, "AT+QICSGP=2,3,\"iot.example\",\"gateway\",\"Pa55,w0rd\",1");
  EXPECT_EQ(with_password.log_text, "AT+QICSGP=2,3,\"iot.example\",\"gateway\",\"***\",1");
  EXPECT_EQ(with_password.loggable(), with_password.log_text);
  EXPECT_EQ(with_password.log_text.find("Pa55"), std::string::npos);
  EXPECT_EQ(with_password.log_text.find("w0rd"), std::string::npos);

  // A user name alone is not secret but still asks for PAP.
  const at::Command user_only = configure_pdp(PdpSettings{1, PdpType::kIpv6, "v6.apn", "me", ""});
  EXPECT_EQ(user_only.text, "AT+QICSGP=1,2,\"v6.apn\",\"me\",\"\",1");
  EXPECT_FALSE(user_only.sensitive());
}

TEST(QuectelCommands, QmtconnMasksTheWholePassword) {
  // field-notes.md 1.1, byte for byte.
  const at::Command c = mqtt_connect(0, "python-mqtt-176", "finamon", "Finamon_2022");
  EXPECT_EQ(c.text, "AT+QMTCONN=0,\"python-mqtt-176\",\"finamon\",\"Finamon_2022\"");
  EXPECT_EQ(c.log_text, "AT+QMTCONN=0,\"python-mqtt-176\",\"finamon\",\"***\"");
  EXPECT_EQ(c.log_text.find("Finamon_2022"), std::string::npos);
  EXPECT_EQ(c.log_text.find("2022"), std::string::npos);  // not even a part of it
  EXPECT_EQ(c.timeout, seconds(5));
  ASSERT_TRUE(c.completion.has_value());
  EXPECT_EQ(c.completion->prefix, "+QMTCONN:");
  EXPECT_EQ(c.completion->timeout, seconds(30));

  // A long password is masked whole: the mask does not give its length away.
  const std::string secret(100, 's');
  const at::Command long_pw = mqtt_connect(1, "id", "u", secret);
  EXPECT_EQ(long_pw.log_text, "AT+QMTCONN=1,\"id\",\"u\",\"***\"");

  // The field guide (seed 000): no credentials, nothing to mask.
  const at::Command bare = mqtt_connect(0, "client01", std::nullopt, std::nullopt);
  EXPECT_EQ(bare.text, "AT+QMTCONN=0,\"client01\"");
  EXPECT_FALSE(bare.sensitive());

  const at::Command user_only = mqtt_connect(0, "client01", "user", std::nullopt);
  EXPECT_EQ(user_only.text, "AT+QMTCONN=0,\"client01\",\"user\"");
  EXPECT_FALSE(user_only.sensitive());

  // The syntax is positional: a password needs a user name field before it.
  const at::Command password_only = mqtt_connect(0, "client01", std::nullopt, "tok3n");
  EXPECT_EQ(password_only.text, "AT+QMTCONN=0,\"client01\",\"\",\"tok3n\"");
  EXPECT_EQ(password_only.log_text, "AT+QMTCONN=0,\"client01\",\"\",\"***\"");
}

struct MatchCase {
  std::string line;
  bool matches;
};

void expect_completion(const at::Command& c, const std::string& prefix, Duration timeout,
                       const std::vector<MatchCase>& lines) {
  SCOPED_TRACE(c.text);
  EXPECT_EQ(c.timeout, seconds(5));  // the OK comes at once; the result is the completion's
  ASSERT_TRUE(c.completion.has_value());
  EXPECT_EQ(c.completion->prefix, prefix);
  EXPECT_EQ(c.completion->timeout, timeout);
  ASSERT_TRUE(c.completion->matches);
  for (const MatchCase& m : lines) {
    // The channel only asks about lines that start with the prefix; the others are asked too, to
    // show that matches() never takes another command's URC.
    EXPECT_EQ(m.line.starts_with(prefix) && c.completion->matches(m.line), m.matches) << m.line;
  }
}

TEST(QuectelCommands, QmtopenCloseConnDiscCompleteOnTheirClientsResult) {
  // field-notes.md 1.1, byte for byte.
  const at::Command open = mqtt_open(0, "broker.emqx.io", 1883);
  EXPECT_EQ(open.text, "AT+QMTOPEN=0,\"broker.emqx.io\",1883");
  EXPECT_TRUE(open.response_prefixes.empty());
  expect_completion(open, "+QMTOPEN:", seconds(125),
                    {
                        {"+QMTOPEN: 0,0", true},  // field-notes.md 1.1
                        {"+QMTOPEN: 0,5", true},  // seed 000: IPv6-only APN
                        {"+QMTOPEN: 0,-1", true},
                        {"+QMTOPEN: 0,2", true},  // field-notes.md 2.4: "already opened"
                        {"+QMTOPEN:0,3", true},
                        {"+QMTOPEN: 0, 4", true},
                        {"+QMTOPEN: 1,0", false},  // another client
                        {"+QMTOPEN: 10,0", false},
                        {"+QMTOPEN: 0,\"broker.emqx.io\",1883", false},  // the AT+QMTOPEN? answer
                        {"+QMTOPEN: 0", false},
                        {"+QMTCLOSE: 0,0", false},
                    });

  const at::Command open5 = mqtt_open(5, "10.0.0.1", 8883);
  EXPECT_EQ(open5.text, "AT+QMTOPEN=5,\"10.0.0.1\",8883");
  expect_completion(open5, "+QMTOPEN:", seconds(125), {{"+QMTOPEN: 5,0", true}, {"+QMTOPEN: 0,0", false}});

  const at::Command close = mqtt_close(0);
  EXPECT_EQ(close.text, "AT+QMTCLOSE=0");
  expect_completion(close, "+QMTCLOSE:", seconds(30),
                    {{"+QMTCLOSE: 0,0", true}, {"+QMTCLOSE: 0,-1", true}, {"+QMTCLOSE: 1,0", false}});

  const at::Command disc = mqtt_disconnect(0);
  EXPECT_EQ(disc.text, "AT+QMTDISC=0");
  expect_completion(disc, "+QMTDISC:", seconds(30),
                    {{"+QMTDISC: 0,0", true}, {"+QMTDISC: 0,-1", true}, {"+QMTDISC: 2,0", false}});

  const at::Command conn = mqtt_connect(0, "client01", std::nullopt, std::nullopt);
  expect_completion(conn, "+QMTCONN:", seconds(30),
                    {
                        {"+QMTCONN: 0,0,0", true},  // field-notes.md 1.1
                        {"+QMTCONN: 0,0,4", true},  // bad user name or password
                        {"+QMTCONN: 0,2", true},    // failed to send
                        {"+QMTCONN: 0,1", false},   // retransmission: the final result follows
                        {"+QMTCONN: 1,0,0", false},
                        {"+QMTCONN: 0", false},
                    });
}

TEST(QuectelCommands, SubscribeAndUnsubscribePinClientAndMsgid) {
  // field-notes.md 1.1, byte for byte.
  const at::Command sub = mqtt_subscribe(0, 1, {{"qf4dcfae.eu-central-1.emqx.cloud", 2}});
  EXPECT_EQ(sub.text, "AT+QMTSUB=0,1,\"qf4dcfae.eu-central-1.emqx.cloud\",2");
  expect_completion(sub, "+QMTSUB:", seconds(20),
                    {
                        {"+QMTSUB: 0,1,0,2", true},  // field-notes.md 1.1
                        {"+QMTSUB: 0,1,2", true},    // failed
                        {"+QMTSUB: 0, 1, 0, 2", true},
                        {"+QMTSUB: 0,1,1,1", false},  // retransmission notice
                        {"+QMTSUB: 0,17,0,2", false},
                        {"+QMTSUB: 0,11,0,2", false},
                        {"+QMTSUB: 1,1,0,2", false},
                        {"+QMTSUB: 0,1", false},
                        {"+QMTUNS: 0,1,0", false},
                    });

  const at::Command many = mqtt_subscribe(2, 300, {{"a/+/b", 0}, {"c/#", 1}, {"d", 2}});
  EXPECT_EQ(many.text, "AT+QMTSUB=2,300,\"a/+/b\",0,\"c/#\",1,\"d\",2");
  expect_completion(many, "+QMTSUB:", seconds(20),
                    {{"+QMTSUB: 2,300,0,0,1,2", true}, {"+QMTSUB: 2,30,0,0", false}});

  const at::Command uns = mqtt_unsubscribe(0, 1, {"qf4dcfae.eu-central-1.emqx.cloud"});
  EXPECT_EQ(uns.text, "AT+QMTUNS=0,1,\"qf4dcfae.eu-central-1.emqx.cloud\"");  // field-notes.md 1.1
  expect_completion(uns, "+QMTUNS:", seconds(20),
                    {{"+QMTUNS: 0,1,0", true}, {"+QMTUNS: 0,10,0", false}, {"+QMTSUB: 0,1,0,0", false}});

  const at::Command uns2 = mqtt_unsubscribe(0, 2, {"topic/example", "x/#"});
  EXPECT_EQ(uns2.text, "AT+QMTUNS=0,2,\"topic/example\",\"x/#\"");  // AN chapter 5 + a second topic
  expect_completion(uns2, "+QMTUNS:", seconds(20), {{"+QMTUNS: 0,2,0", true}});
}

TEST(QuectelCommands, PublishCarriesTheExactByteLengthAndPinsTheMsgid) {
  // The AN's example (chapter 5), byte for byte.
  const std::string an_payload = "This is test data, hello MQTT.";
  const at::Command an = mqtt_publish(0, 0, 0, false, "topic/pub", an_payload);
  EXPECT_EQ(an.text, "AT+QMTPUBEX=0,0,0,0,\"topic/pub\",30");
  EXPECT_EQ(an.payload, an_payload);
  EXPECT_FALSE(an.sensitive());
  expect_completion(an, "+QMTPUBEX:", seconds(20),
                    {{"+QMTPUBEX: 0,0,0", true}, {"+QMTPUBEX: 0,1,0", false}, {"+QMTPUB: 0,0,0", false}});

  // Bytes the length must count exactly: NUL, CR/LF, quotes, Ctrl-Z, bytes >= 0x80.
  const std::string nasty = "{\"a\":\"x,y\"}\r\nOK\r\n\"\0\x1a\xff\x80>"s;
  ASSERT_EQ(nasty.size(), 23u);
  const at::Command one = mqtt_publish(0, 1, 1, false, "t", nasty);
  EXPECT_EQ(one.text, "AT+QMTPUBEX=0,1,1,0,\"t\",23");
  EXPECT_EQ(one.payload, nasty);
  expect_completion(one, "+QMTPUBEX:", seconds(20),
                    {
                        {"+QMTPUBEX: 0,1,0", true},
                        {"+QMTPUBEX: 0,1,2", true},     // failed after the retries
                        {"+QMTPUBEX: 0,1,1,2", false},  // retransmission notice (field-notes.md 2.2)
                        {"+QMTPUBEX: 0,17,0", false},   // "+QMTPUBEX: 0,1" is a prefix of it
                        {"+QMTPUBEX: 0,10,0", false},
                        {"+QMTPUBEX: 0,1", false},
                        {"+QMTPUBEX: 1,1,0", false},
                        {"+QMTPUBEX: 0,65537,0", false},
                        {"+QMTPUB: 0,1,0", false},
                    });

  const at::Command seventeen = mqtt_publish(3, 17, 2, true, "dev/42/up", "");
  EXPECT_EQ(seventeen.text, "AT+QMTPUBEX=3,17,2,1,\"dev/42/up\",0");
  EXPECT_EQ(seventeen.payload, "");
  expect_completion(seventeen, "+QMTPUBEX:", seconds(20),
                    {{"+QMTPUBEX: 3,17,0", true},
                     {"+QMTPUBEX: 3,1,0", false},
                     {"+QMTPUBEX: 3,170,0", false},
                     {"+QMTPUBEX: 0,17,0", false}});

  const at::Command max = mqtt_publish(0, 65535, 1, false, "t", std::string(kMaxPublishPayload, 'x'));
  EXPECT_EQ(max.text, "AT+QMTPUBEX=0,65535,1,0,\"t\",1500");
  expect_completion(max, "+QMTPUBEX:", seconds(20),
                    {{"+QMTPUBEX: 0,65535,0", true}, {"+QMTPUBEX: 0,6553,0", false}});
}

}  // namespace
}  // namespace modem::quectel
