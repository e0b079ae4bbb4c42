// The parsers against tables of real lines (field-notes.md, the AN's examples), malformed lines and
// hostile ones. A parser either understands a line or returns nullopt: it never throws and never
// reads outside the line (run under ASan/UBSan in the sanitizer build).
#include <gtest/gtest.h>

#include <cstddef>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "modem/at/framer.hpp"
#include "modem/quectel/dialect.hpp"

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

// ---- +QMTRECV -------------------------------------------------------------------------------------

std::string with_length(const std::string& topic, const std::string& payload, int msgid = 0) {
  return "+QMTRECV: 0," + std::to_string(msgid) + ",\"" + topic + "\"," + std::to_string(payload.size()) +
         ",\"" + payload + "\"";
}

// Quotes, commas, a fake final result, CR, LF, NUL, Ctrl-Z and bytes >= 0x80.
const std::string kHostile = "{\"a\":\"x,y\"},\"\r\nOK\r\n\r\n+QMTSTAT: 0,1\r\n\0\x1a\xff\x80\xc3\xa9\"\""s;

struct RecvCase {
  const char* what;
  std::string line;
  std::optional<ReceivedMessage> expected;
};

TEST(QuectelQmtrecv, MessagesInEveryDocumentedShape) {
  const std::string relay = "{\"relay1\":1,\"relay2\":0}";
  ASSERT_EQ(relay.size(), 23u);
  const std::vector<RecvCase> cases = {
      {"field-notes.md 1.1: recv/mode default, no length",
       "+QMTRECV: 0,0,\"qf4dcfae.eu-central-1.emqx.cloud\",\"hello GPS-4G-HAT shield\"",
       ReceivedMessage{0, 0, "qf4dcfae.eu-central-1.emqx.cloud", "hello GPS-4G-HAT shield"}},
      {"field-notes.md 2.1: the ec200x driver's length form", "+QMTRECV: 0,0,\"test\",10,\"1234567890\"",
       ReceivedMessage{0, 0, "test", "1234567890"}},
      {"field-notes.md 1.15: buffered read-back", "+QMTRECV: 0,0,\"/public/test\",12,\"A55A20000001\"",
       ReceivedMessage{0, 0, "/public/test", "A55A20000001"}},
      {"AN chapter 5", "+QMTRECV: 0,0,\"topic/example\",36,\"This is the payload related to topic\"",
       ReceivedMessage{0, 0, "topic/example", "This is the payload related to topic"}},
      {"AN chapter 5: a comma in the payload",
       "+QMTRECV: 0,0,\"topic/pub\",30,\"This is test data, hello MQTT.\"",
       ReceivedMessage{0, 0, "topic/pub", "This is test data, hello MQTT."}},
      {"field-notes.md 2.1: EC200U JSON on the same line, no length",
       "+QMTRECV: 0,0,\"pump/01/cmd\",\"{\"relay1\":1,\"relay2\":0}\"",
       ReceivedMessage{0, 0, "pump/01/cmd", relay}},
      {"field-notes.md 2.1: EC200U split format, payload on the next line",
       "+QMTRECV: 0,0,\"pump/01/cmd\",23\r\n{\"relay1\":1,\"relay2\":0}",
       ReceivedMessage{0, 0, "pump/01/cmd", relay}},
      {"split format after a lone LF", "+QMTRECV: 0,0,\"pump/01/cmd\",23\n" + relay,
       ReceivedMessage{0, 0, "pump/01/cmd", relay}},
      {"field-notes.md 2.1: LooUQ's msgid 65535 on client 5", "+QMTRECV: 5,65535,\"<topic>\",\"<payload>\"",
       ReceivedMessage{5, 65535, "<topic>", "<payload>"}},
      {"field-notes.md 2.1: JSON with commas (the pico_lte bug)",
       "+QMTRECV: 0,1,\"cmd\",\"{\"method\":\"set\",\"id\":\"1757929280\",\"params\":{\"PowerMode\":0}}\"",
       ReceivedMessage{0, 1, "cmd",
                       "{\"method\":\"set\",\"id\":\"1757929280\",\"params\":{\"PowerMode\":0}}"}},
      {"no length: '\",' inside the payload", "+QMTRECV: 0,0,\"t\",\"a\",\"b\"",
       ReceivedMessage{0, 0, "t", "a\",\"b"}},
      {"no length: payload of one quote", "+QMTRECV: 0,0,\"t\",\"\"\"", ReceivedMessage{0, 0, "t", "\""}},
      {"no length: empty payload", "+QMTRECV: 0,0,\"t\",\"\"", ReceivedMessage{0, 0, "t", ""}},
      {"length: empty payload", "+QMTRECV: 0,0,\"t\",0,\"\"", ReceivedMessage{0, 0, "t", ""}},
      {"length: hostile payload", with_length("dev/42/cmd", kHostile, 7),
       ReceivedMessage{0, 7, "dev/42/cmd", kHostile}},
      {"no length: hostile payload", "+QMTRECV: 0,3,\"t\",\"" + kHostile + "\"",
       ReceivedMessage{0, 3, "t", kHostile}},
      {"length: a payload that looks like a length form", with_length("t", "5,\"abc\""),
       ReceivedMessage{0, 0, "t", "5,\"abc\""}},
      {"length: a payload ending in CR LF", with_length("t", "ab\r\n"), ReceivedMessage{0, 0, "t", "ab\r\n"}},
      {"spaces after the commas (field-notes.md 2.7)", "+QMTRECV: 0, 0, \"t\", 10, \"1234567890\"",
       ReceivedMessage{0, 0, "t", "1234567890"}},
      {"spaces, no length", "+QMTRECV:1 , 2, \"t\", \"p\"", ReceivedMessage{1, 2, "t", "p"}},
      {"a quote inside the topic", "+QMTRECV: 0,0,\"a\"b\",\"x\"", ReceivedMessage{0, 0, "a\"b", "x"}},
      {"UTF-8 topic", "+QMTRECV: 0,0,\"\xe6\xb8\xa9\xe5\xba\xa6\",2,\"\xc3\xa9\"",
       ReceivedMessage{0, 0, "\xe6\xb8\xa9\xe5\xba\xa6", "\xc3\xa9"}},
      {"field-notes.md 2.1: unquoted payload (DEV-CLAIM)", "+QMTRECV: 0,0,\"Hello\",hello world",
       ReceivedMessage{0, 0, "Hello", "hello world"}},
      // The topic ends at the first `",`: a topic holding `",` is cut there (not representable).
      {"limitation: '\",' inside the topic", "+QMTRECV: 0,0,\"a\",b\",\"x\"",
       ReceivedMessage{0, 0, "a", "b\",\"x\""}},
  };
  for (const RecvCase& c : cases) {
    SCOPED_TRACE(c.what);
    const auto parsed = parse_qmtrecv(c.line);
    ASSERT_TRUE(parsed.has_value());
    const auto* m = std::get_if<ReceivedMessage>(&*parsed);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->client, c.expected->client);
    EXPECT_EQ(m->msgid, c.expected->msgid);
    EXPECT_EQ(m->topic, c.expected->topic);
    EXPECT_EQ(m->payload, c.expected->payload);
  }
}

TEST(QuectelQmtrecv, BufferedNoticeAndBufferStatus) {
  // AN 4.2 [3] and field-notes.md 2.1 (EC200U): "+QMTRECV: 0,<id>", no topic, no payload.
  for (const auto& [line, client, id] : std::vector<std::tuple<std::string, int, int>>{
           {"+QMTRECV: 0,3", 0, 3}, {"+QMTRECV: 0,0", 0, 0}, {"+QMTRECV: 2, 4", 2, 4}}) {
    const auto parsed = parse_qmtrecv(line);
    ASSERT_TRUE(parsed.has_value()) << line;
    const auto* b = std::get_if<BufferedMessage>(&*parsed);
    ASSERT_NE(b, nullptr) << line;
    EXPECT_EQ(b->client, client);
    EXPECT_EQ(b->recv_id, id);
  }
  // The AT+QMTRECV? answer: the client, then one flag per buffer (field-notes.md 1.15).
  for (const auto& [line, flags] : std::vector<std::pair<std::string, std::vector<bool>>>{
           {"+QMTRECV: 0,1,0,0,0,0", {true, false, false, false, false}},
           {"+QMTRECV: 0,0,0,0,0,0", {false, false, false, false, false}},  // field-notes.md 1.15
           {"+QMTRECV: 0,1,1,1,1,1", {true, true, true, true, true}},       // field-notes.md 1.15
       }) {
    const auto parsed = parse_qmtrecv(line);
    ASSERT_TRUE(parsed.has_value()) << line;
    const auto* s = std::get_if<BufferStatus>(&*parsed);
    ASSERT_NE(s, nullptr) << line;
    EXPECT_EQ(s->client, 0);
    EXPECT_EQ(s->stored, flags);
  }
}

TEST(QuectelQmtrecv, MalformedAndHostileLinesGiveNothing) {
  const std::vector<std::string> lines = {
      "+QMTRECV: 0,0,\"t\",\"abc",                          // no closing quote
      "+QMTRECV: 0,0,\"t\",\"",                             // only the opening quote
      "+QMTRECV: 0,0,\"t\",10,\"12345\"",                   // shorter than declared
      "+QMTRECV: 0,0,\"t\",3,\"12345\"",                    // longer than declared
      "+QMTRECV: 0,0,\"t\",3,\"abc\"x",                     // bytes after the closing quote
      "+QMTRECV: 0,0,\"t\",3,\"abcd",                       // no closing quote where the length says
      "+QMTRECV: 0,0,\"t\",18446744073709551615,\"a\"",     // SIZE_MAX
      "+QMTRECV: 0,0,\"t\",99999999999999999999999,\"a\"",  // beyond size_t
      "+QMTRECV: 0,0,\"t\",10,",
      "+QMTRECV: 0,0,\"t\",23",  // a split header whose payload never came
      "+QMTRECV: 0,0,\"t\",5\r\nabc",
      "+QMTRECV: 0,0,\"t\",5\r\nabcdef",
      "+QMTRECV: 0,0,\"t\"",
      "+QMTRECV: 0,0,\"t\",",
      "+QMTRECV: 0,0,\"t",
      "+QMTRECV: 0,0,\"",
      "+QMTRECV: 0,0,",
      "+QMTRECV: 0,",
      "+QMTRECV: 0",
      "+QMTRECV: ",
      "+QMTRECV:",
      "+QMTRECV: 6,0,\"t\",\"p\"",  // client index 0-5
      "+QMTRECV: -1,0,\"t\",\"p\"",
      "+QMTRECV: 0,65536,\"t\",\"p\"",  // msgid 0-65535
      "+QMTRECV: 0,-1,\"t\",\"p\"",
      "+QMTRECV: 0,1,0,0,0",      // four flags
      "+QMTRECV: 0,1,0,0,0,0,0",  // six flags
      "+QMTRECV: 0,1,2,0,0,0",    // a flag that is not 0/1
      "+QMTRECV: 0,-3",
      "+QMTRECV: 0,3,",
      "+QMTRECV: 0\0,0,\"t\",\"p\""s,
      "+QMTRECV: 0,0\0\"t\",\"p\""s,
      // The field guide's (seed 000) hand-written line: an extra number and a length that does not
      // match its (backslash-escaped) payload.
      "+QMTRECV: 0,1,0,\"home/sensors/commands\",18,\"{\\\"cmd\\\":\\\"fan_on\\\"}\"",
      // Quectel's OpenCPU RIL buffer (field-notes.md 2.1): quotes already stripped, not wire format.
      "+QMTRECV: 0,0,/sys/a1WjNmzlsCL/865933034722252/thing/service/property/set,{\"method\":\"x\"}",
      "+QMTSTAT: 0,1",
      "QMTRECV: 0,0,\"t\",\"p\"",
      "+QMTRECV 0,0,\"t\",\"p\"",
      "",
  };
  for (const std::string& line : lines) {
    EXPECT_FALSE(parse_qmtrecv(line).has_value()) << line;
  }
}

// Every prefix of real and hostile lines, and random lines made of the characters that matter:
// the parser and the line extension stay in bounds and give sane answers.
TEST(QuectelQmtrecv, EveryPrefixAndRandomLinesStayInBounds) {
  std::vector<std::string> seeds = {
      with_length("dev/42/cmd", kHostile, 65535),
      "+QMTRECV: 0,0,\"t\",\"" + kHostile + "\"",
      "+QMTRECV: 0,0,\"pump/01/cmd\",23\r\n{\"relay1\":1,\"relay2\":0}",
      "+QMTRECV: 0,1,0,0,0,0",
      "+QMTRECV: 0, 0, \"t\", 10, \"1234567890\"",
  };
  for (const std::string& line : seeds) {
    for (std::size_t n = 0; n <= line.size(); ++n) {
      const std::string_view prefix(line.data(), n);
      (void)parse_qmtrecv(prefix);
      EXPECT_LE(qmtrecv_line_extension(prefix), kMaxReceivedPayload + 2) << n;
    }
  }
  std::mt19937 rng(20240611);  // fixed: the same lines every run
  const std::vector<std::string> pieces = {
      "+QMTRECV:", " ",  ",",    "\"",  "\",",  "0", "1", "23", "65535", "99999999999999999999",
      "\r",        "\n", "\r\n", "\0"s, "\xff", "a", "-"};
  std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
  std::uniform_int_distribution<int> count(0, 24);
  for (int i = 0; i < 20000; ++i) {
    std::string line = "+QMTRECV:";
    for (int k = count(rng); k > 0; --k)
      line += pieces[pick(rng)];
    const auto parsed = parse_qmtrecv(line);
    if (parsed) {
      if (const auto* m = std::get_if<ReceivedMessage>(&*parsed)) {
        EXPECT_LE(m->topic.size() + m->payload.size(), line.size());
      }
    }
    EXPECT_LE(qmtrecv_line_extension(line), kMaxReceivedPayload + 2) << line;
  }
}

TEST(QuectelQmtrecv, LineExtensionAnswersTheFramersQuestion) {
  // At a CR/LF the framer asks with the line so far: how many more bytes, that CR/LF included,
  // belong to the line.
  const std::string cap = std::to_string(kMaxReceivedPayload);
  const std::string over = std::to_string(kMaxReceivedPayload + 1);
  struct Case {
    std::string line_so_far;
    std::size_t more;
  };
  const std::vector<Case> cases = {
      // With <len>: the rest of the payload and the closing quote.
      {"+QMTRECV: 0,0,\"t\",10,\"12345", 6},
      {"+QMTRECV: 0,0,\"t\",10,\"", 11},
      {"+QMTRECV: 0,0,\"t\",10,\"123456789", 2},
      {"+QMTRECV: 0,0,\"t\",10,\"1234567890", 1},
      {"+QMTRECV: 0,0,\"t\",10,\"1234567890\"", 0},
      {"+QMTRECV: 0, 0, \"t\", 10, \"12345", 6},
      {"+QMTRECV: 0,0,\"t\",0,\"\"", 0},
      {"+QMTRECV: 0,0,\"t\"," + cap + ",\"", kMaxReceivedPayload + 1},
      {"+QMTRECV: 0,0,\"t\"," + over + ",\"", 0},  // corrupt: do not swallow what follows
      {"+QMTRECV: 0,0,\"t\",18446744073709551615,\"", 0},
      {"+QMTRECV: 0,0,\"t\",99999999999999999999999,\"", 0},
      // Without <len>: a byte at a time until the line ends in the payload's closing quote.
      {"+QMTRECV: 0,0,\"t\",\"abc", 1},
      {"+QMTRECV: 0,0,\"t\",\"", 1},  // the opening quote is not a closing one
      {"+QMTRECV: 0,0,\"t\",\"abc\"", 0},
      {"+QMTRECV: 0,0,\"t\",\"\"", 0},
      {"+QMTRECV: 0,0,\"t\",\"" + std::string(kMaxReceivedPayload, 'x'), 0},
      {"+QMTRECV: 0,0,\"t\",\"" + std::string(kMaxReceivedPayload - 1, 'x'), 1},
      // Split (field-notes.md 2.1): the line end after <len>, then <len> bytes.
      {"+QMTRECV: 0,0,\"t\",23", 1},
      {"+QMTRECV: 0,0,\"t\",23\r", 24},
      {"+QMTRECV: 0,0,\"t\",23\r\n{\"relay1\"", 14},
      {"+QMTRECV: 0,0,\"t\",23\r\n{\"relay1\":1,\"relay2\":0}", 0},
      {"+QMTRECV: 0,0,\"t\",3\n", 3},
      {"+QMTRECV: 0,0,\"t\",0\r", 1},
      {"+QMTRECV: 0,0,\"t\"," + over, 0},
      // Nothing to extend.
      {"+QMTRECV: 0,3", 0},
      {"+QMTRECV: 0,1,0,0,0,0", 0},
      {"+QMTRECV: 0,0,\"t", 0},  // a CR/LF inside the topic: not supported
      {"+QMTRECV: 0,0,\"t\",", 0},
      {"+QMTRECV: 0,0,\"t\",10,", 0},
      {"+QMTRECV: 0,0,\"Hello\",hello world", 0},
      {"+QMTRECV: 9,0,\"t\",10,\"", 0},
      {"+QMTSTAT: 0,1", 0},
      {"OK", 0},
      {"", 0},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(qmtrecv_line_extension(c.line_so_far), c.more) << c.line_so_far.substr(0, 60);
  }
}

// The framer with qmtrecv_line_extension, fed in every chunk size: each +QMTRECV shape comes out as
// one line that parses back to the payload, and the lines around it are untouched.
TEST(QuectelQmtrecv, FramerKeepsMultiLinePayloadsWhole) {
  const std::string split_payload = "{\"relay1\":1,\r\n\"relay2\":0}";
  const std::string no_length_payload = "line one\r\nline two,\r\n{\"k\": 1}";  // no inner line ends in '"'
  struct Case {
    const char* what;
    std::string line;
    std::string payload;
  };
  const std::vector<Case> cases = {
      {"length", with_length("t", kHostile), kHostile},
      {"length, payload ends in CR LF", with_length("t", "x\r\n"), "x\r\n"},
      {"length, payload of CR LF only", with_length("t", "\r\n\r\n"), "\r\n\r\n"},
      {"split", "+QMTRECV: 0,0,\"t\"," + std::to_string(split_payload.size()) + "\r\n" + split_payload,
       split_payload},
      {"no length", "+QMTRECV: 0,0,\"t\",\"" + no_length_payload + "\"", no_length_payload},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string input = "\r\n" + c.line + "\r\n\r\nOK\r\n\r\n+QMTSTAT: 0,1\r\n";
    for (std::size_t chunk = 1; chunk <= input.size(); ++chunk) {
      at::Framer framer;
      framer.set_line_extension(qmtrecv_line_extension);
      std::vector<std::string> lines;
      for (std::size_t i = 0; i < input.size(); i += chunk) {
        framer.feed(std::string_view(input).substr(i, chunk), [&](at::Frame&& f) {
          ASSERT_EQ(f.kind, at::Frame::Kind::kLine);
          lines.push_back(std::move(f.data));
        });
      }
      ASSERT_EQ(lines, (std::vector<std::string>{c.line, "OK", "+QMTSTAT: 0,1"})) << "chunk " << chunk;
      const auto parsed = parse_qmtrecv(lines[0]);
      ASSERT_TRUE(parsed.has_value());
      ASSERT_TRUE(std::holds_alternative<ReceivedMessage>(*parsed));
      EXPECT_EQ(std::get<ReceivedMessage>(*parsed).payload, c.payload) << "chunk " << chunk;
    }
  }
}

// ---- PDP, registration, SIM, signal, operator -------------------------------------------------

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

TEST(QuectelParsers, RegistrationUrcAndReadForms) {
  struct Case {
    std::string line;
    bool urc;  // parse_registration_urc, else parse_registration_read
    std::optional<RegistrationStatus> expected;
  };
  const auto eps = Registration::kEps;
  const std::vector<Case> cases = {
      {"+CEREG: 5", true, RegistrationStatus{eps, 5, std::nullopt}},
      {"+CEREG: 2", true, RegistrationStatus{eps, 2, std::nullopt}},
      {"+CEREG: 1,\"1A2B\",\"01234567\",7", true, RegistrationStatus{eps, 1, 7}},
      {"+CEREG: 1, \"1A2B\", \"01234567\", 7", true, RegistrationStatus{eps, 1, 7}},
      {"+CEREG: 1,\"1A2B\",\"01234567\"", true, RegistrationStatus{eps, 1, std::nullopt}},
      {"+CEREG: 1,,,7", true, RegistrationStatus{eps, 1, 7}},
      {"+CEREG: 1,\"1A2B\",\"01234567\",7,0,15", true, RegistrationStatus{eps, 1, 7}},  // n=4: cause fields
      {"+CREG: 1,\"D509\",\"80D413D\",7", true, RegistrationStatus{Registration::kCs, 1, 7}},
      {"+CGREG: 5,\"1A2B\",\"0123\",7,\"01\"", true, RegistrationStatus{Registration::kGprs, 5, 7}},
      {"+CEREG: 0,5", true, std::nullopt},  // a read answer (field-notes.md 1.1), not a URC
      {"+CEREG: 1,\"1A2B", true, std::nullopt},
      {"+CEREG: \"1\"", true, std::nullopt},
      {"+CEREG: 1,1A2B,01234567,7", true, std::nullopt},
      {"+CEREG: 1,\"1A2B\",\"01234567\",x", true, std::nullopt},
      {"+CEREG:", true, std::nullopt},
      {"+CEREGX: 1", true, std::nullopt},
      {"+CEREG: 0,5", false, RegistrationStatus{eps, 5, std::nullopt}},               // field-notes.md 1.1
      {"+CREG: 0,2", false, RegistrationStatus{Registration::kCs, 2, std::nullopt}},  // field-notes.md 1.4
      {"+CEREG: 2,1,\"1A2B\",\"01234567\",7", false, RegistrationStatus{eps, 1, 7}},
      {"+CEREG: 2,1,\"1A2B\",\"01234567\"", false, RegistrationStatus{eps, 1, std::nullopt}},
      {"+CEREG: 5", false, std::nullopt},  // a URC, not a read answer
      {"+CEREG: 6,1", false, std::nullopt},
      {"+CEREG: 2,1,\"1A2B\"", false, std::nullopt},
      {"+CEREG: 2,\"1A2B\",\"01234567\",7", false, std::nullopt},
  };
  for (const Case& c : cases) {
    const auto r = c.urc ? parse_registration_urc(c.line) : parse_registration_read(c.line);
    ASSERT_EQ(r.has_value(), c.expected.has_value()) << c.line;
    if (r) {
      EXPECT_EQ(r->kind, c.expected->kind) << c.line;
      EXPECT_EQ(r->stat, c.expected->stat) << c.line;
      EXPECT_EQ(r->access_technology, c.expected->access_technology) << c.line;
    }
  }
  EXPECT_STREQ(prefix(Registration::kCs), "+CREG:");
  EXPECT_STREQ(prefix(Registration::kGprs), "+CGREG:");
  EXPECT_STREQ(prefix(Registration::kEps), "+CEREG:");
  for (int stat = 0; stat <= 11; ++stat)
    EXPECT_EQ(is_registered(stat), stat == 1 || stat == 5) << stat;
}

TEST(QuectelParsers, SimStatus) {
  EXPECT_EQ(parse_sim_status("+CPIN: READY"), SimState::kReady);  // field-notes.md 1.1, 1.4
  EXPECT_EQ(parse_sim_status("+CPIN:READY"), SimState::kReady);
  EXPECT_EQ(parse_sim_status("+CPIN: READY "), SimState::kReady);
  EXPECT_EQ(parse_sim_status("+CPIN: SIM PIN"), SimState::kPinRequired);
  EXPECT_EQ(parse_sim_status("+CPIN: SIM PUK"), SimState::kPukRequired);
  EXPECT_EQ(parse_sim_status("+CPIN: NOT INSERTED"), SimState::kNotInserted);
  EXPECT_EQ(parse_sim_status("+CPIN: SIM PIN2"), SimState::kOther);
  EXPECT_EQ(parse_sim_status("+CPIN: PH-SIM PIN"), SimState::kOther);
  EXPECT_EQ(parse_sim_status("+CPIN: NOT READY"), SimState::kOther);
  EXPECT_EQ(parse_sim_status("+CPIN: "), SimState::kOther);
  EXPECT_EQ(parse_sim_status("READY"), SimState::kOther);
  EXPECT_EQ(parse_sim_status(""), SimState::kOther);
  EXPECT_TRUE(cme_means_sim_missing(10));
  EXPECT_TRUE(cme_means_sim_missing(13));
  EXPECT_FALSE(cme_means_sim_missing(50));  // field-notes.md 2.8
  EXPECT_FALSE(cme_means_sim_missing(4));
}

TEST(QuectelParsers, SignalQuality) {
  EXPECT_EQ(parse_csq_dbm("+CSQ: 28,0"), -57);  // field-notes.md 1.1
  EXPECT_EQ(parse_csq_dbm("+CSQ: 20,99"), -73);
  EXPECT_EQ(parse_csq_dbm("+CSQ: 0,0"), -113);
  EXPECT_EQ(parse_csq_dbm("+CSQ: 31,0"), -51);
  EXPECT_EQ(parse_csq_dbm("+CSQ: 100,99"), -116);
  EXPECT_EQ(parse_csq_dbm("+CSQ: 191,99"), -25);
  EXPECT_EQ(parse_csq_dbm("+CSQ: 99,99"), std::nullopt);  // unknown
  EXPECT_EQ(parse_csq_dbm("+CSQ: 32,0"), std::nullopt);
  EXPECT_EQ(parse_csq_dbm("+CSQ: -1,0"), std::nullopt);
  EXPECT_EQ(parse_csq_dbm("+CSQ: 28"), std::nullopt);
  EXPECT_EQ(parse_csq_dbm("+CSQ: ,0"), std::nullopt);
  EXPECT_EQ(parse_csq_dbm("+CSQ: 28,0,1"), std::nullopt);
  EXPECT_EQ(parse_csq_dbm("+QCSQ: \"eMTC\",-56,-78,210,-9"), std::nullopt);  // field-notes.md 1.1
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

TEST(QuectelParsers, OperatorAndNetworkInfo) {
  const auto cops = parse_cops("+COPS: 0,0,\"SGP-M1\",2");  // field-notes.md 1.4
  ASSERT_TRUE(cops.has_value());
  EXPECT_EQ(cops->name, "SGP-M1");
  EXPECT_EQ(cops->access_technology, 2);
  const auto numeric = parse_cops("+COPS: 0,2,\"46000\"");
  ASSERT_TRUE(numeric.has_value());
  EXPECT_EQ(numeric->name, "46000");
  EXPECT_EQ(numeric->access_technology, std::nullopt);
  EXPECT_EQ(parse_cops("+COPS: 0"), std::nullopt);  // not registered
  EXPECT_EQ(parse_cops("+COPS: 0,0,SGP-M1,2"), std::nullopt);
  EXPECT_EQ(parse_cops("+COPS: 0,0,\"SGP-M1\",x"), std::nullopt);
  EXPECT_EQ(parse_cops("+COPS: 0,0,\"SGP-M1"), std::nullopt);

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

}  // namespace
}  // namespace modem::quectel
