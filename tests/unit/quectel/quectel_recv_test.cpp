// +QMTRECV: the reader that tells the framer where a message line can end, and the parser of the
// complete line, against the shapes the documents and the field show (field-notes.md 1.1, 1.15,
// 2.1) and against lines an attacker who may publish to a subscribed topic can make the module
// write (issue 18): topics holding `",<digits>,"`, payloads holding whole fake module lines.
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
#include "modem/quectel/quectel_at.hpp"

namespace modem::quectel {
namespace {

using namespace std::string_literals;

constexpr auto kWith = RecvFraming::kWithLength;
constexpr auto kWithout = RecvFraming::kWithoutLength;

std::string with_length(const std::string& topic, const std::string& payload, int msgid = 0) {
  return "+QMTRECV: 0," + std::to_string(msgid) + ",\"" + topic + "\"," + std::to_string(payload.size()) +
         ",\"" + payload + "\"";
}

// Quotes, commas, a fake final result, fake URCs, CR, LF, NUL, Ctrl-Z and bytes >= 0x80.
const std::string kHostile =
    "{\"a\":\"x,y\"},\"\r\nOK\r\n\r\n+QMTSTAT: 0,1\r\n+QMTPUBEX: 0,7,0\r\n\0\x1a\xff\x80\xc3\xa9\"\""s;
// What the attacker publishes: fake lines after a line break.
const std::string kForgedLines = "\r\n+QMTRECV: 0,9,\"gw/commands/forged\",4,\"evil\"\r\n+QMTSTAT: 0,1\r\n";

ReceivedMessage message(const std::optional<QmtRecv>& parsed) {
  EXPECT_TRUE(parsed.has_value());
  if (!parsed || !std::holds_alternative<ReceivedMessage>(*parsed)) {
    ADD_FAILURE() << "not a message";
    return {};
  }
  return std::get<ReceivedMessage>(*parsed);
}

struct RecvCase {
  const char* what;
  std::string line;
  ReceivedMessage expected;
};

void expect_messages(const std::vector<RecvCase>& cases, RecvFraming framing) {
  for (const RecvCase& c : cases) {
    SCOPED_TRACE(c.what);
    const ReceivedMessage m = message(parse_qmtrecv(c.line, framing));
    EXPECT_EQ(m.client, c.expected.client);
    EXPECT_EQ(m.msgid, c.expected.msgid);
    EXPECT_EQ(m.topic, c.expected.topic);
    EXPECT_EQ(m.payload, c.expected.payload);
  }
}

TEST(QuectelRecvParse, MessagesInEveryShapeWithTheLengthField) {
  const std::string relay = "{\"relay1\":1,\"relay2\":0}";
  ASSERT_EQ(relay.size(), 23u);
  expect_messages(
      {
          {"field-notes.md 2.1: the ec200x driver's length form",
           "+QMTRECV: 0,0,\"test\",10,\"1234567890\"",
           {0, 0, "test", "1234567890"}},
          {"field-notes.md 1.15: buffered read-back",
           "+QMTRECV: 0,0,\"/public/test\",12,\"A55A20000001\"",
           {0, 0, "/public/test", "A55A20000001"}},
          {"AN chapter 5",
           "+QMTRECV: 0,0,\"topic/example\",36,\"This is the payload related to topic\"",
           {0, 0, "topic/example", "This is the payload related to topic"}},
          {"field-notes.md 2.1: EC200U split format, payload on the next line",
           "+QMTRECV: 0,0,\"pump/01/cmd\",23\r\n" + relay,
           {0, 0, "pump/01/cmd", relay}},
          {"split format after a lone LF",
           "+QMTRECV: 0,0,\"pump/01/cmd\",23\n" + relay,
           {0, 0, "pump/01/cmd", relay}},
          {"length: empty payload", "+QMTRECV: 0,0,\"t\",0,\"\"", {0, 0, "t", ""}},
          {"length: hostile payload", with_length("dev/42/cmd", kHostile, 7), {0, 7, "dev/42/cmd", kHostile}},
          {"length: a payload that looks like a length form",
           with_length("t", "5,\"abc\""),
           {0, 0, "t", "5,\"abc\""}},
          {"length: a JSON array with a string, a number, a string",
           with_length("t", "[\"pwm\",100,\"on\"]"),
           {0, 0, "t", "[\"pwm\",100,\"on\"]"}},
          {"length: a payload ending in CR LF", with_length("t", "ab\r\n"), {0, 0, "t", "ab\r\n"}},
          {"spaces after the commas (field-notes.md 2.7)",
           "+QMTRECV: 0, 0, \"t\", 10, \"1234567890\"",
           {0, 0, "t", "1234567890"}},
          {"UTF-8 topic",
           "+QMTRECV: 0,0,\"\xe6\xb8\xa9\xe5\xba\xa6\",2,\"\xc3\xa9\"",
           {0, 0, "\xe6\xb8\xa9\xe5\xba\xa6", "\xc3\xa9"}},
          // Issue 18: the topic holds `",` and a whole length field of its own; only the real one
          // makes the line end where it ends.
          {"the issue's forged topic and fake lines",
           with_length("gw/commands/x\",1,\"a", kForgedLines, 9),
           {0, 9, "gw/commands/x\",1,\"a", kForgedLines}},
          {"a topic of quotes and commas", with_length("\",\",\"", "p"), {0, 0, "\",\",\"", "p"}},
          {"a topic ending in a quote", with_length("a\"", "x"), {0, 0, "a\"", "x"}},
          // Firmware that ignores msg_len_enable: no length field anywhere, read as without one.
          {"no length field at all: field-notes.md 1.1",
           "+QMTRECV: 0,0,\"qf4dcfae.eu-central-1.emqx.cloud\",\"hello GPS-4G-HAT shield\"",
           {0, 0, "qf4dcfae.eu-central-1.emqx.cloud", "hello GPS-4G-HAT shield"}},
          {"no length field: field-notes.md 2.1, EC200U JSON on the same line",
           "+QMTRECV: 0,0,\"pump/01/cmd\",\"{\"relay1\":1,\"relay2\":0}\"",
           {0, 0, "pump/01/cmd", relay}},
          {"no length field: LooUQ's msgid 65535 on client 5",
           "+QMTRECV: 5,65535,\"<topic>\",\"<payload>\"",
           {5, 65535, "<topic>", "<payload>"}},
      },
      kWith);
}

TEST(QuectelRecvParse, WithoutTheLengthFieldTheTopicEndsAtTheFirstQuoteCommaQuote) {
  expect_messages(
      {
          {"seed 003 (BC20) 5.2",
           "+QMTRECV: 0,0,\"topic/example\",\"This is the payload related to topic\"",
           {0, 0, "topic/example", "This is the payload related to topic"}},
          {"field-notes.md 2.1: JSON with commas (the pico_lte bug)",
           "+QMTRECV: "
           "0,1,\"cmd\",\"{\"method\":\"set\",\"id\":\"1757929280\",\"params\":{\"PowerMode\":0}}\"",
           {0, 1, "cmd", "{\"method\":\"set\",\"id\":\"1757929280\",\"params\":{\"PowerMode\":0}}"}},
          {"'\",\"' inside the payload", "+QMTRECV: 0,0,\"t\",\"a\",\"b\"", {0, 0, "t", "a\",\"b"}},
          // A payload that looks like a length form is not one here.
          {"a payload with a length-like field",
           "+QMTRECV: 0,0,\"t\",\"a\",5,\"hello\"",
           {0, 0, "t", "a\",5,\"hello"}},
          {"payload of one quote", "+QMTRECV: 0,0,\"t\",\"\"\"", {0, 0, "t", "\""}},
          {"empty payload", "+QMTRECV: 0,0,\"t\",\"\"", {0, 0, "t", ""}},
          {"hostile payload", "+QMTRECV: 0,3,\"t\",\"" + kHostile + "\"", {0, 3, "t", kHostile}},
          {"spaces", "+QMTRECV:1 , 2, \"t\", \"p\"", {1, 2, "t", "p"}},
          {"a quote inside the topic", "+QMTRECV: 0,0,\"a\"b\",\"x\"", {0, 0, "a\"b", "x"}},
          // The residual ambiguity the README names: a topic holding `","` is cut there.
          {"limitation: '\",\"' inside the topic", "+QMTRECV: 0,0,\"a\",\"b\",\"x\"", {0, 0, "a", "b\",\"x"}},
      },
      kWithout);
}

TEST(QuectelRecvParse, ALineThatReadsAsTwoMessagesIsRefused) {
  // The topic `t",9,"ab` makes the 9-byte reading `ab",2,"cd` fit the line exactly as well as
  // the real one (`cd`): which message the broker sent cannot be known.
  const auto parsed = parse_qmtrecv(with_length("t\",9,\"ab", "cd", 4), kWith);
  ASSERT_TRUE(parsed.has_value());
  const auto* ambiguous = std::get_if<AmbiguousMessage>(&*parsed);
  ASSERT_NE(ambiguous, nullptr);
  EXPECT_EQ(ambiguous->client, 0);
  EXPECT_EQ(ambiguous->msgid, 4);
  EXPECT_EQ(ambiguous->readings, 2u);
}

TEST(QuectelRecvParse, BufferedNoticeAndBufferStatus) {
  // AN 4.2 [3] and field-notes.md 2.1 (EC200U): "+QMTRECV: 0,<id>", no topic, no payload.
  for (const auto& [line, client, id] : std::vector<std::tuple<std::string, int, int>>{
           {"+QMTRECV: 0,3", 0, 3}, {"+QMTRECV: 0,0", 0, 0}, {"+QMTRECV: 2, 4", 2, 4}}) {
    const auto parsed = parse_qmtrecv(line, kWith);
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
    const auto parsed = parse_qmtrecv(line, kWith);
    ASSERT_TRUE(parsed.has_value()) << line;
    const auto* s = std::get_if<BufferStatus>(&*parsed);
    ASSERT_NE(s, nullptr) << line;
    EXPECT_EQ(s->client, 0);
    EXPECT_EQ(s->stored, flags);
  }
}

TEST(QuectelRecvParse, MalformedAndHostileLinesGiveNothing) {
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
      "+QMTRECV: 0,0,\"t\",5\rabcde",  // a lone CR is taken as the start of CR LF
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
      // Unquoted payloads some drivers claim (field-notes.md 2.1, DEV-CLAIM): nothing could say where
      // such a payload ends, so no framing can be trusted for it.
      "+QMTRECV: 0,0,\"Hello\",hello world",
      "+QMTSTAT: 0,1",
      "QMTRECV: 0,0,\"t\",\"p\"",
      "+QMTRECV 0,0,\"t\",\"p\"",
      "",
  };
  for (const std::string& line : lines) {
    EXPECT_FALSE(parse_qmtrecv(line, kWith).has_value()) << line;
  }
}

// ---- where a line can end ----------------------------------------------------------------------

struct EndsCase {
  std::string segment;
  char line_break;
  std::vector<at::LineEnds::Reading> readings;
  bool until_quiet;
};

TEST(QuectelRecvLineEnds, EveryReadingOfTheFirstSegment) {
  const auto len = [](const std::string& s) { return s.size(); };
  const std::string plain = "+QMTRECV: 0,0,\"t\",10,\"12345";
  const std::string hostile = "+QMTRECV: 0,5,\"gw/x\",1,\"a\",58,\"";
  const std::string split = "+QMTRECV: 0,0,\"t\",23";
  const std::vector<EndsCase> cases = {
      // With <len>: where the payload starts, plus its length and the closing quote.
      {plain, '\r', {{len("+QMTRECV: 0,0,\"t\",10,\"") + 11, '"'}}, false},
      {"+QMTRECV: 0, 0, \"t\", 10, \"", '\n', {{len("+QMTRECV: 0, 0, \"t\", 10, \"") + 11, '"'}}, false},
      {"+QMTRECV: 0,0,\"t\",0,\"\"", '\r', {{len("+QMTRECV: 0,0,\"t\",0,\"") + 1, '"'}}, false},
      // The forged topic: the length field inside the topic ends before the line break,
      // so it is no reading; the real one is 58 bytes on.
      {hostile, '\r', {{hostile.size() + 59, '"'}}, false},
      // Only length fields inside the topic (firmware that ignores msg_len_enable, and a topic
      // that holds one): read as without a length.
      {"+QMTRECV: 0,5,\"gw/x\",1,\"a\",\"", '\r', {}, true},
      // Split (field-notes.md 2.1): CR LF (or a lone LF), then <len> bytes, no closing quote.
      {split, '\r', {{split.size() + 2 + 23, '\0'}}, false},
      {split, '\n', {{split.size() + 1 + 23, '\0'}}, false},
      // A length beyond MQTT's largest payload is no length.
      {"+QMTRECV: 0,0,\"t\",268435456,\"", '\r', {}, true},
      // No length field: it waits for silence.
      {"+QMTRECV: 0,0,\"t\",\"abc", '\r', {}, true},
      {"+QMTRECV: 0,0,\"t", '\r', {}, true},  // a line break inside the topic
      // Numeric forms and other lines end where they are.
      {"+QMTRECV: 0,3", '\r', {}, false},
      {"+QMTRECV: 0,1,0,0,0,0", '\r', {}, false},
      {"+QMTRECV: 9,0,\"t\",10,\"", '\r', {}, false},
      {"+QMTSTAT: 0,1", '\r', {}, false},
  };
  for (const EndsCase& c : cases) {
    SCOPED_TRACE(c.segment);
    const at::LineEnds ends = qmtrecv_line_ends(c.segment, c.line_break, kWith);
    ASSERT_EQ(ends.readings.size(), c.readings.size());
    for (std::size_t i = 0; i < c.readings.size(); ++i) {
      EXPECT_EQ(ends.readings[i].length, c.readings[i].length) << i;
      EXPECT_EQ(ends.readings[i].last, c.readings[i].last) << i;
    }
    EXPECT_EQ(ends.until_quiet, c.until_quiet);
    if (c.until_quiet) {
      EXPECT_EQ(ends.quiet_last, '"');
    }
  }
}

TEST(QuectelRecvLineEnds, WithoutTheLengthFieldALengthLikePayloadIsNotALength) {
  const at::LineEnds ends = qmtrecv_line_ends("+QMTRECV: 0,0,\"t\",\"a\",5,\"hello\"", '\r', kWithout);
  EXPECT_TRUE(ends.readings.empty());
  EXPECT_TRUE(ends.until_quiet);
}

// ---- the reader and the parser together, through the framer, in every chunk size ----------------

// Frames `input` with the +QMTRECV reader in chunks of `chunk`, then lets the line fall silent.
std::vector<at::Frame> frame(const std::string& input, std::size_t chunk, RecvFraming framing) {
  const at::Framer::LineReader reader = [framing](std::string_view segment, char line_break) {
    return qmtrecv_line_ends(segment, line_break, framing);
  };
  at::Framer framer;
  framer.set_reader_lookup([&reader](std::string_view line) -> const at::Framer::LineReader* {
    return line.starts_with("+QMTRECV:") ? &reader : nullptr;
  });
  std::vector<at::Frame> frames;
  auto sink = [&](at::Frame&& f) { frames.push_back(std::move(f)); };
  for (std::size_t i = 0; i < input.size(); i += chunk)
    framer.feed(std::string_view(input).substr(i, chunk), sink);
  framer.quiet(sink);
  return frames;
}

TEST(QuectelRecvFraming, EveryShapeComesOutWholeAndTheLinesAroundItUntouched) {
  const std::string split_payload = "{\"relay1\":1,\r\n\"relay2\":0}";
  const std::string no_length_payload = "line one\r\nline two,\r\n{\"k\": \"v\"}\r\n\"";
  struct Case {
    const char* what;
    RecvFraming framing;
    std::string line;
    std::string topic;
    std::string payload;
  };
  const std::vector<Case> cases = {
      {"length", kWith, with_length("t", kHostile), "t", kHostile},
      {"length, payload ends in CR LF", kWith, with_length("t", "x\r\n"), "t", "x\r\n"},
      {"length, payload of CR LF only", kWith, with_length("t", "\r\n\r\n"), "t", "\r\n\r\n"},
      {"length, the issue's attack", kWith, with_length("gw/commands/x\",1,\"a", kForgedLines),
       "gw/commands/x\",1,\"a", kForgedLines},
      {"length, JSON array", kWith, with_length("t", "[\"a\",99,\"b\"]\r\n"), "t", "[\"a\",99,\"b\"]\r\n"},
      {"split", kWith, "+QMTRECV: 0,0,\"t\"," + std::to_string(split_payload.size()) + "\r\n" + split_payload,
       "t", split_payload},
      {"no length", kWithout, "+QMTRECV: 0,0,\"t\",\"" + no_length_payload + "\"", "t", no_length_payload},
      {"no length field, read as such", kWith, "+QMTRECV: 0,0,\"t\",\"" + no_length_payload + "\"", "t",
       no_length_payload},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string input = "\r\n" + c.line + "\r\n\r\nOK\r\n\r\n+QMTSTAT: 0,1\r\n";
    for (std::size_t chunk = 1; chunk <= input.size(); ++chunk) {
      std::vector<std::string> lines;
      for (at::Frame& f : frame(input, chunk, c.framing)) {
        ASSERT_EQ(f.kind, at::Frame::Kind::kLine) << "chunk " << chunk;
        lines.push_back(std::move(f.data));
      }
      ASSERT_EQ(lines, (std::vector<std::string>{c.line, "OK", "+QMTSTAT: 0,1"})) << "chunk " << chunk;
      const ReceivedMessage m = message(parse_qmtrecv(lines[0], c.framing));
      EXPECT_EQ(m.topic, c.topic);
      EXPECT_EQ(m.payload, c.payload) << "chunk " << chunk;
    }
  }
}

TEST(QuectelRecvFraming, AMessageThatEndsTwoWaysAndWhatFollowsItBecomeNoLine) {
  // The topic `t",K,"ab` declares K bytes that end at the quote and line break inside the real
  // payload; the real length field ends at the real end. Both are right: the message is refused,
  // the fake +QMTSTAT inside it is not passed on, the +QMTPUBEX after it (both framings have it)
  // is.
  const std::string payload = "cd\"\r\n+QMTSTAT: 0,1\r\nzz";
  const std::string forged_payload = "ab\"," + std::to_string(payload.size()) + ",\"cd";
  const std::string line = with_length("t\"," + std::to_string(forged_payload.size()) + ",\"ab", payload);
  const std::string input = "\r\n" + line + "\r\n\r\n+QMTPUBEX: 0,3,0\r\n";
  for (std::size_t chunk = 1; chunk <= input.size(); ++chunk) {
    const auto frames = frame(input, chunk, kWith);
    ASSERT_EQ(frames.size(), 2u) << "chunk " << chunk;
    EXPECT_EQ(frames[0].kind, at::Frame::Kind::kUnframeable);
    EXPECT_EQ(frames[0].size, line.size());
    EXPECT_EQ(frames[1].kind, at::Frame::Kind::kLine);
    EXPECT_EQ(frames[1].data, "+QMTPUBEX: 0,3,0");
  }
}

TEST(QuectelRecvFraming, AMessageThatEndsOneWayButSplitsTwoIsOneLineAndRefused) {
  // `t",N,"ab` declares exactly the rest of the line: both readings end at the real end, so the
  // line is certain, but its topic and payload are not.
  const std::string payload = "cd\r\n+QMTSTAT: 0,1\r\n";
  const std::string rest = "ab\"," + std::to_string(payload.size()) + ",\"" + payload;
  const std::string line = with_length("t\"," + std::to_string(rest.size()) + ",\"ab", payload);
  const std::string input = "\r\n" + line + "\r\n\r\n+QMTPUBEX: 0,3,0\r\n";
  for (std::size_t chunk = 1; chunk <= input.size(); ++chunk) {
    const auto frames = frame(input, chunk, kWith);
    ASSERT_EQ(frames.size(), 2u) << "chunk " << chunk;
    EXPECT_EQ(frames[0].data, line);
    EXPECT_EQ(frames[1].data, "+QMTPUBEX: 0,3,0");
  }
  const auto parsed = parse_qmtrecv(line, kWith);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_TRUE(std::holds_alternative<AmbiguousMessage>(*parsed));
}

// Every prefix of real and hostile lines, and random lines made of the characters that matter:
// the parser and the reader stay in bounds and give sane answers.
TEST(QuectelRecvParse, EveryPrefixAndRandomLinesStayInBounds) {
  std::vector<std::string> seeds = {
      with_length("dev/42/cmd", kHostile, 65535),
      "+QMTRECV: 0,0,\"t\",\"" + kHostile + "\"",
      "+QMTRECV: 0,0,\"pump/01/cmd\",23\r\n{\"relay1\":1,\"relay2\":0}",
      "+QMTRECV: 0,1,0,0,0,0",
      "+QMTRECV: 0, 0, \"t\", 10, \"1234567890\"",
      with_length("gw/commands/x\",1,\"a", kForgedLines),
  };
  const auto check = [](std::string_view line) {
    for (const RecvFraming framing : {kWith, kWithout}) {
      const auto parsed = parse_qmtrecv(line, framing);
      if (parsed) {
        if (const auto* m = std::get_if<ReceivedMessage>(&*parsed)) {
          EXPECT_LE(m->topic.size() + m->payload.size(), line.size());
        }
      }
      const std::size_t segment_end = std::min(line.find_first_of("\r\n"), line.size());
      const at::LineEnds ends = qmtrecv_line_ends(line.substr(0, segment_end), '\r', framing);
      for (const auto& r : ends.readings)
        EXPECT_LE(r.length, segment_end + kMaxMqttPayload + 3);
    }
  };
  for (const std::string& line : seeds) {
    for (std::size_t n = 0; n <= line.size(); ++n)
      check(std::string_view(line.data(), n));
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
    check(line);
  }
}

}  // namespace
}  // namespace modem::quectel
