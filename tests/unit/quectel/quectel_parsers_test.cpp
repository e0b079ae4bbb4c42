// The parsers against tables of real lines (field-notes.md, the AN's examples), malformed lines and
// hostile ones. A parser either understands a line or returns nullopt: it never throws and never
// reads outside the line (run under ASan/UBSan in the sanitizer build).
#include <gtest/gtest.h>

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "modem/quectel/quectel_at.hpp"

namespace modem::quectel {
namespace {

using namespace std::string_literals;

// ---- MQTT result URCs ----------------------------------------------------------------------------

struct ResultCase {
  std::string line;
  std::optional<std::pair<int, int>> expected;  // client, result
};

void expect_results(std::optional<MqttResult> (*parse)(std::string_view),
                    const std::vector<ResultCase>& cases) {
  for (const ResultCase& c : cases) {
    const auto r = parse(c.line);
    ASSERT_EQ(r.has_value(), c.expected.has_value()) << c.line;
    if (r) {
      EXPECT_EQ(r->client, c.expected->first) << c.line;
      EXPECT_EQ(r->result, c.expected->second) << c.line;
    }
  }
}

TEST(QuectelParsers, Qmtstat) {
  const std::vector<ResultCase> cases = {
      {"+QMTSTAT: 0,1", std::pair{0, 1}},  // field-notes.md 2.3: the most common
      {"+QMTSTAT: 0,2", std::pair{0, 2}},
      {"+QMTSTAT: 0,8", std::pair{0, 8}},  // field-notes.md 2.2/2.3: after a QoS 1 burst
      {"+QMTSTAT: 5,7", std::pair{5, 7}},
      {"+QMTSTAT:0,1", std::pair{0, 1}},
      {"+QMTSTAT: 0, 1", std::pair{0, 1}},  // ", " spacing (field-notes.md 2.7)
      {"+QMTSTAT: 0,1 ", std::pair{0, 1}},
      {"+QMTSTAT: 6,1", std::nullopt},  // client index 0-5
      {"+QMTSTAT: -1,1", std::nullopt},
      {"+QMTSTAT: 0", std::nullopt},
      {"+QMTSTAT: ", std::nullopt},
      {"+QMTSTAT:", std::nullopt},
      {"+QMTSTAT: 0,1,2", std::nullopt},
      {"+QMTSTAT: 0,", std::nullopt},
      {"+QMTSTAT: ,1", std::nullopt},
      {"+QMTSTAT: a,1", std::nullopt},
      {"+QMTSTAT: 0,1x", std::nullopt},
      {"+QMTSTAT: 0,+1", std::nullopt},
      {"+QMTSTAT: 0,\"1\"", std::nullopt},
      {"+QMTSTAT: 0,99999999999999999999", std::nullopt},
      {"+QMTSTAT: 0\0,1"s, std::nullopt},
      {"+QMTSTAT: 0,\"1", std::nullopt},
      {"+QMTOPEN: 0,1", std::nullopt},
      {"QMTSTAT: 0,1", std::nullopt},
      {"", std::nullopt},
  };
  for (const ResultCase& c : cases) {
    const auto r = parse_qmtstat(c.line);
    ASSERT_EQ(r.has_value(), c.expected.has_value()) << c.line;
    if (r) {
      EXPECT_EQ(r->client, c.expected->first) << c.line;
      EXPECT_EQ(r->code, c.expected->second) << c.line;
    }
  }
}

TEST(QuectelParsers, QmtopenQmtcloseQmtdisc) {
  expect_results(parse_qmtopen, {
                                    {"+QMTOPEN: 0,0", std::pair{0, 0}},  // field-notes.md 1.1
                                    {"+QMTOPEN: 0,5", std::pair{0, 5}},  // seed 000, IPv6-only APN
                                    {"+QMTOPEN: 0,-1", std::pair{0, -1}},
                                    {"+QMTOPEN: 3, 2", std::pair{3, 2}},
                                    // The AT+QMTOPEN? answer (field-notes.md 1.1) and the test answer.
                                    {"+QMTOPEN: 0,\"broker.emqx.io\",1883", std::nullopt},
                                    {"+QMTOPEN: (0-5),\"hostname\",(1-65536)", std::nullopt},
                                    {"+QMTOPEN: 0,", std::nullopt},
                                    {"+QMTOPEN: 0,--1", std::nullopt},
                                    {"+QMTCLOSE: 0,0", std::nullopt},
                                });
  expect_results(parse_qmtclose, {
                                     {"+QMTCLOSE: 0,0", std::pair{0, 0}},
                                     {"+QMTCLOSE: 0,-1", std::pair{0, -1}},
                                     {"+QMTCLOSE: (0-5)", std::nullopt},
                                     {"+QMTCLOSE: 0", std::nullopt},
                                 });
  expect_results(parse_qmtdisc, {
                                    {"+QMTDISC: 0,0", std::pair{0, 0}},  // field-notes.md 1.1
                                    {"+QMTDISC: 1,-1", std::pair{1, -1}},
                                    {"+QMTDISC: 0,0,0", std::nullopt},
                                    {"+QMTDISC: 9,0", std::nullopt},
                                });
}

TEST(QuectelParsers, Qmtconn) {
  struct Case {
    std::string line;
    std::optional<ConnectResult> expected;
  };
  const std::vector<Case> cases = {
      {"+QMTCONN: 0,0,0", ConnectResult{0, 0, 0}},  // field-notes.md 1.1
      {"+QMTCONN: 0,0,4", ConnectResult{0, 0, 4}},  // bad user name or password
      {"+QMTCONN: 0,2", ConnectResult{0, 2, std::nullopt}},
      {"+QMTCONN: 0,1", ConnectResult{0, 1, std::nullopt}},
      {"+QMTCONN: 0,3", ConnectResult{0, 3, std::nullopt}},  // AT+QMTCONN? "connected": same shape
      {"+QMTCONN: 2, 0, 5", ConnectResult{2, 0, 5}},
      {"+QMTCONN: 0,0,0,0", std::nullopt},
      {"+QMTCONN: 0", std::nullopt},
      {"+QMTCONN: (0-5),\"clientid\",\"username\",\"password\"", std::nullopt},  // AN test answer
      {"+QMTCONN: 0,0,", std::nullopt},
  };
  for (const Case& c : cases) {
    const auto r = parse_qmtconn(c.line);
    ASSERT_EQ(r.has_value(), c.expected.has_value()) << c.line;
    if (r) {
      EXPECT_EQ(r->client, c.expected->client) << c.line;
      EXPECT_EQ(r->result, c.expected->result) << c.line;
      EXPECT_EQ(r->return_code, c.expected->return_code) << c.line;
    }
  }
}

TEST(QuectelParsers, PacketResults) {
  struct Case {
    std::string line;
    std::optional<PacketResult> expected;
  };
  const std::vector<Case> cases = {
      {"+QMTPUB: 0,1,0", PacketResult{0, 1, 0, {}}},         // field-notes.md 1.1
      {"+QMTSUB: 0,1,0,2", PacketResult{0, 1, 0, {2}}},      // field-notes.md 1.1: granted QoS 2
      {"+QMTUNS: 0,1,0", PacketResult{0, 1, 0, {}}},         // field-notes.md 1.1
      {"+QMTPUBEX: 0,0,0", PacketResult{0, 0, 0, {}}},       // AN chapter 5
      {"+QMTPUBEX: 0,17,1,2", PacketResult{0, 17, 1, {2}}},  // retransmitted twice (field-notes.md 2.2)
      {"+QMTPUB: 0,5,1,1", PacketResult{0, 5, 1, {1}}},      // field-notes.md 2.2, before +QMTSTAT: 0,8
      {"+QMTSUB: 0,1,0,0,1,128", PacketResult{0, 1, 0, {0, 1, 128}}},  // 128: SUBACK failure
      {"+QMTPUBEX: 5,65535,2", PacketResult{5, 65535, 2, {}}},
      {"+QMTPUBEX: 0, 3, 0", PacketResult{0, 3, 0, {}}},
      {"+QMTPUBEX: 0,65536,0", std::nullopt},
      {"+QMTPUBEX: 0,-1,0", std::nullopt},
      {"+QMTPUBEX: 0,1,3", std::nullopt},  // results are 0-2
      {"+QMTPUBEX: 0,1", std::nullopt},
      {"+QMTPUBEX: 0,1,0,", std::nullopt},
      {"+QMTPUBEX: 0,1,0,x", std::nullopt},
      {"+QMTPUBEX: 6,1,0", std::nullopt},
      {"+QMTPUBEX: (0-5),<msgid>,(0-2),(0,1),\"topic\",\"length\"", std::nullopt},  // AN test answer
      {"+QMTPUBREL: 0,1,0", std::nullopt},
      {"+QMTRECV: 0,1,0", std::nullopt},
      {"+QMTPUBEX:", std::nullopt},
  };
  for (const Case& c : cases) {
    const auto r = parse_packet_result(c.line);
    ASSERT_EQ(r.has_value(), c.expected.has_value()) << c.line;
    if (r) {
      EXPECT_EQ(r->client, c.expected->client) << c.line;
      EXPECT_EQ(r->msgid, c.expected->msgid) << c.line;
      EXPECT_EQ(r->result, c.expected->result) << c.line;
      EXPECT_EQ(r->values, c.expected->values) << c.line;
    }
  }
}

// ---- PDP, ICCID, network
// --------------------------------------------------------------------------------------

TEST(QuectelParsers, PdpDeactivated) {
  EXPECT_EQ(parse_pdp_deactivated("+QIURC: \"pdpdeact\",1"), 1);  // field-notes.md 1.6
  EXPECT_EQ(parse_pdp_deactivated("+QIURC: \"pdpdeact\", 16"), 16);
  EXPECT_EQ(parse_pdp_deactivated("+QIURC: \"recv\",0"), std::nullopt);  // field-notes.md 1.8
  EXPECT_EQ(parse_pdp_deactivated("+QIURC: \"ERROR\",1"), std::nullopt);
  EXPECT_EQ(parse_pdp_deactivated("+QIURC: \"pdpdeact\""), std::nullopt);
  EXPECT_EQ(parse_pdp_deactivated("+QIURC: \"pdpdeact\",0"), std::nullopt);  // <cid> 1-16
  EXPECT_EQ(parse_pdp_deactivated("+QIURC: \"pdpdeact\",1,2"), std::nullopt);
  EXPECT_EQ(parse_pdp_deactivated("+QIURC: pdpdeact,1"), std::nullopt);
  EXPECT_EQ(parse_pdp_deactivated("+QIURC: \"pdpdeact,1"), std::nullopt);
  EXPECT_EQ(parse_pdp_deactivated(""), std::nullopt);
}

TEST(QuectelParsers, Qiact) {
  const auto a = parse_qiact("+QIACT: 1,1,1,\"10.3.118.130\"");  // field-notes.md 1.1
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->context_id, 1);
  EXPECT_TRUE(a->active);
  EXPECT_EQ(a->address, "10.3.118.130");
  const auto b = parse_qiact("+QIACT: 1,1,1,\"9.204.251.200\"");  // field-notes.md 1.12
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->address, "9.204.251.200");
  const auto c = parse_qiact("+QIACT: 2,0,1");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->context_id, 2);
  EXPECT_FALSE(c->active);
  EXPECT_EQ(c->address, "");
  const auto d = parse_qiact("+QIACT: 1,1,3,\"10.0.0.1\",\"2001:db8::1\"");  // IPv4v6
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->address, "10.0.0.1");
  EXPECT_EQ(parse_qiact("+QIACT: 17,1,1,\"10.0.0.1\""), std::nullopt);
  EXPECT_EQ(parse_qiact("+QIACT: 1,2,1,\"10.0.0.1\""), std::nullopt);
  EXPECT_EQ(parse_qiact("+QIACT: 1,1"), std::nullopt);
  EXPECT_EQ(parse_qiact("+QIACT: 1,1,1,10.0.0.1"), std::nullopt);
  EXPECT_EQ(parse_qiact("+QIACT: 1,1,1,\"10.0.0.1"), std::nullopt);
  EXPECT_EQ(parse_qiact("+QIACT:"), std::nullopt);
}

TEST(QuectelParsers, Iccid) {
  EXPECT_EQ(parse_iccid("+QCCID: 89860318760239587428"), "89860318760239587428");
  EXPECT_EQ(parse_iccid("+QCCID:8986031876023958742F"), "8986031876023958742F");
  EXPECT_EQ(parse_iccid("+QCCID: 89860318760239587428 "), "89860318760239587428");
  EXPECT_EQ(parse_iccid("+QCCID: "), std::nullopt);
  EXPECT_EQ(parse_iccid("+QCCID: 8986 0318 7602 3958"), std::nullopt);
  EXPECT_EQ(parse_iccid("+QCCID: 123"), std::nullopt);
  EXPECT_EQ(parse_iccid("+QCCID: \"89860318760239587428\""), std::nullopt);
  EXPECT_EQ(parse_iccid("89860318760239587428"), std::nullopt);
}

TEST(QuectelParsers, NetworkInfo) {
  const auto info = parse_qnwinfo("+QNWINFO: \"eMTC\",\"26202\",\"LTE BAND 20\",6300");  // field-notes.md 1.1
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->access_technology, "eMTC");
  EXPECT_EQ(info->operator_code, "26202");
  EXPECT_EQ(info->band, "LTE BAND 20");
  const auto bare = parse_qnwinfo("+QNWINFO: \"FDD LTE\",46001,\"LTE BAND 3\",1650");
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->operator_code, "46001");
  EXPECT_EQ(bare->band, "LTE BAND 3");
  EXPECT_EQ(parse_qnwinfo("+QNWINFO: No Service"), std::nullopt);
  EXPECT_EQ(parse_qnwinfo("+QNWINFO: \"eMTC\""), std::nullopt);
  EXPECT_EQ(parse_qnwinfo("+QNWINFO: \"eMTC\",\"26202\",LTE BAND 20,6300"), std::nullopt);
}

TEST(QuectelParsers, ConnectionStateReadsTheFourStates) {
  // seeds/001 3.3.5: AT+QMTCONN? answers +QMTCONN: <client_idx>,<state>, 1 to 4.
  const auto connected = parse_qmtconn_state("+QMTCONN: 0,3");
  ASSERT_TRUE(connected);
  EXPECT_EQ(connected->client, 0);
  EXPECT_EQ(connected->state, 3);
  EXPECT_EQ(parse_qmtconn_state("+QMTCONN: 5,1")->state, 1);
  EXPECT_FALSE(parse_qmtconn_state("+QMTCONN: 0,0,0"));  // a connect result, not a state
  EXPECT_FALSE(parse_qmtconn_state("+QMTCONN: 0,5"));
  EXPECT_FALSE(parse_qmtconn_state("+QMTCONN: 6,3"));
  EXPECT_EQ(mqtt_connection_state().text, "AT+QMTCONN?");
  EXPECT_EQ(mqtt_connection_state().response_prefixes, std::vector<std::string>{"+QMTCONN:"});
}

}  // namespace
}  // namespace modem::quectel
