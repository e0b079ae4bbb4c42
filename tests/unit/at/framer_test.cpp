// The framer against byte streams as modules really send them (field-notes.md), each fed in every
// chunk size from 1 byte to the whole buffer: the frames must not depend on how reads split.
#include "modem/at/framer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace modem::at {
namespace {

using namespace std::string_literals;

using Kind = Frame::Kind;

struct Expected {
  Kind kind;
  std::string data;
  bool operator==(const Expected&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Expected& e) {
  static const char* names[] = {"line", "prompt", "raw", "overflow"};
  return os << names[static_cast<int>(e.kind)] << "[" << e.data << "]";
}

// Feeds `input` in chunks of `chunk` bytes. `setup` configures the framer first; `on_frame` may
// react to frames (as the channel does) before the next byte is framed.
std::vector<Expected> frame_all(std::string_view input, std::size_t chunk,
                                const std::function<void(Framer&)>& setup = {},
                                const std::function<void(Framer&, const Frame&)>& on_frame = {},
                                FramerConfig config = {}) {
  Framer framer(config);
  if (setup) setup(framer);
  std::vector<Expected> frames;
  for (std::size_t i = 0; i < input.size(); i += chunk) {
    framer.feed(input.substr(i, chunk), [&](Frame&& f) {
      if (on_frame) on_frame(framer, f);
      frames.push_back({f.kind, f.data});
    });
  }
  return frames;
}

// Checks that every chunk size yields `expected`.
void expect_frames(std::string_view input, const std::vector<Expected>& expected,
                   const std::function<void(Framer&)>& setup = {},
                   const std::function<void(Framer&, const Frame&)>& on_frame = {}) {
  for (std::size_t chunk = 1; chunk <= input.size(); ++chunk) {
    ASSERT_EQ(frame_all(input, chunk, setup, on_frame), expected) << "chunk size " << chunk;
  }
}

struct LineCase {
  const char* name;
  std::string input;
  std::vector<std::string> lines;
};
void PrintTo(const LineCase& c, std::ostream* os) {
  *os << c.name;
}

class FramerLines : public ::testing::TestWithParam<LineCase> {};

TEST_P(FramerLines, SplitsLinesTheSameWayForEveryChunkSize) {
  std::vector<Expected> expected;
  for (const auto& line : GetParam().lines)
    expected.push_back({Kind::kLine, line});
  expect_frames(GetParam().input, expected);
}

INSTANTIATE_TEST_SUITE_P(
    RealTraffic, FramerLines,
    ::testing::Values(LineCase{"crlf_wrapped_response", "\r\nOK\r\n", {"OK"}},
                      // field-notes.md 1.13: "AT\r" echo + "\r\nOK\r\n", byte-exact from an EC600M
                      LineCase{"echo_ends_in_bare_cr", "AT\r\r\nOK\r\n", {"AT", "OK"}},
                      LineCase{"info_then_ok", "\r\n+CSQ: 28,0\r\n\r\nOK\r\n", {"+CSQ: 28,0", "OK"}},
                      // field-notes.md 1.4: the 38-byte read, boot URCs glued to a response
                      LineCase{"boot_urcs_glued_to_response",
                               "AT\r\r\nOK\r\n\r\n+CPIN: READY\r\n\r\n+QUSIM: 1\r\n",
                               {"AT", "OK", "+CPIN: READY", "+QUSIM: 1"}},
                      LineCase{"lf_only", "OK\n+QIND: PB DONE\n", {"OK", "+QIND: PB DONE"}},
                      // field-notes.md 1.6: "POWERED DOWN" with no line end until the next output
                      LineCase{"powered_down_then_pdpdeact",
                               "\r\nOK\r\n\r\nPOWERED DOWN\r\n+QIURC: \"pdpdeact\",1\r\n",
                               {"OK", "POWERED DOWN", "+QIURC: \"pdpdeact\",1"}},
                      LineCase{"blank_lines_dropped", "\r\n\r\n\r\r\n\nRDY\r\n\r\n", {"RDY"}},
                      LineCase{"quotes_commas_kept",
                               "+QMTRECV: 0,0,\"t\",\"{\"a\":1,\"b\":2}\"\r\n",
                               {"+QMTRECV: 0,0,\"t\",\"{\"a\":1,\"b\":2}\""}},
                      LineCase{"binary_bytes_kept", "\r\nA\x00\xff\x80Z\r\n"s, {"A\x00\xff\x80Z"s}},
                      LineCase{"no_terminator_yet", "\r\nOK\r\n+QMTSTAT: 0,", {"OK"}}),
    [](const auto& info) { return info.param.name; });

TEST(Framer, PromptIsRecognisedOnlyWhenExpected) {
  const std::string input = "AT+QMTPUBEX=0,1,1,0,\"t\",5\r\r\n> ";
  expect_frames(input, {{Kind::kLine, "AT+QMTPUBEX=0,1,1,0,\"t\",5"}, {Kind::kPrompt, ">"}},
                [](Framer& f) { f.expect_prompt(true); });
  // Without the expectation, "> " is just the start of a line that has not ended.
  EXPECT_EQ(frame_all("\r\n> quoted mail\r\n", 1), (std::vector<Expected>{{Kind::kLine, "> quoted mail"}}));
}

TEST(Framer, PromptWithoutSpaceAndSpaceNotPartOfNextLine) {
  // BG770A (field-notes.md 1.1) may send '>' without a space; the space, when sent, is not data.
  expect_frames("\r\n>\r\nOK\r\n", {{Kind::kPrompt, ">"}, {Kind::kLine, "OK"}},
                [](Framer& f) { f.expect_prompt(true); });
  expect_frames("\r\n> \r\nOK\r\n", {{Kind::kPrompt, ">"}, {Kind::kLine, "OK"}},
                [](Framer& f) { f.expect_prompt(true); });
}

TEST(Framer, PromptMidLineIsNotAPrompt) {
  expect_frames("\r\nA> \r\n", {{Kind::kLine, "A> "}}, [](Framer& f) { f.expect_prompt(true); });
}

TEST(Framer, RawBlockCarriesAnyByteUntouched) {
  const std::string payload("a\r\nOK\r\n\"x\",\x00\x1a\xff", 14);
  const std::string input = "+QIRD: 14\r\n" + payload + "\r\nOK\r\n";
  expect_frames(input, {{Kind::kLine, "+QIRD: 14"}, {Kind::kRaw, payload}, {Kind::kLine, "OK"}}, {},
                [](Framer& f, const Frame& frame) {
                  if (frame.kind == Kind::kLine && frame.data == "+QIRD: 14") f.expect_raw(14);
                });
}

// A length-prefixed line (+QMTRECV with recv/mode msg_len_enable=1) whose payload holds CR, LF,
// quotes, commas and a fake final result must arrive as one line, byte-exact.
std::size_t length_field_extension(std::string_view line) {
  // "+X: <len>,"<payload>"": the line is complete once it holds len payload bytes and the quote.
  const auto comma = line.find(',');
  if (comma == std::string_view::npos || comma + 1 >= line.size()) return 0;
  const std::size_t len = std::stoul(std::string(line.substr(4, comma - 4)));
  const std::size_t have = line.size() - (comma + 2);  // after ',"'
  const std::size_t want = len + 1;                    // payload and the closing quote
  return have >= want ? 0 : want - have;
}

TEST(Framer, LineExtensionKeepsPayloadWithLineEndsInOneLine) {
  const std::string payload = "{\"a\":1,\r\n\"b\":\"\r\nOK\r\n\"}\r";
  const std::string line = "+X: " + std::to_string(payload.size()) + ",\"" + payload + "\"";
  expect_frames("\r\n" + line + "\r\n\r\nOK\r\n", {{Kind::kLine, line}, {Kind::kLine, "OK"}},
                [](Framer& f) { f.set_line_extension(length_field_extension); });
}

TEST(Framer, EchoOfPayloadIsSwallowed) {
  // field-notes.md 1.1: with ATE1 the module echoes the payload, then CRLF OK.
  const std::string payload = "Hello\r\nOK\r\n";
  expect_frames(payload + "\r\nOK\r\n", {{Kind::kLine, "OK"}}, [&](Framer& f) { f.expect_echo(payload); });
}

TEST(Framer, EchoThatDoesNotComeLosesNothing) {
  // The module did not echo: its answer is framed as usual from the first differing byte.
  expect_frames("\r\nOK\r\n", {{Kind::kLine, "OK"}}, [](Framer& f) { f.expect_echo("payload"); });
}

TEST(Framer, OverlongLineIsReportedAndItsTailNeverBecomesALine) {
  FramerConfig config;
  config.max_line_bytes = 16;
  const std::string big(40, 'x');
  const std::string input = "\r\n+QMTRECV: " + big + "\r\nOK\r\n";
  for (std::size_t chunk = 1; chunk <= input.size(); ++chunk) {
    Framer framer(config);
    std::vector<Frame> frames;
    for (std::size_t i = 0; i < input.size(); i += chunk) {
      framer.feed(std::string_view(input).substr(i, chunk),
                  [&](Frame&& f) { frames.push_back(std::move(f)); });
    }
    ASSERT_EQ(frames.size(), 2u) << "chunk " << chunk;
    EXPECT_EQ(frames[0].kind, Kind::kOverflow);
    EXPECT_EQ(frames[0].size, 10 + big.size());
    EXPECT_EQ(frames[0].data, ("+QMTRECV: " + big).substr(0, 16));
    EXPECT_EQ(frames[1].kind, Kind::kLine);
    EXPECT_EQ(frames[1].data, "OK");
  }
}

TEST(Framer, LongLineBelowTheLimitIsNotTruncated) {
  // The field's 96-byte buffers (field-notes.md 2.1) lost data; a 10 kB line must pass whole.
  const std::string big(10000, 'y');
  EXPECT_EQ(frame_all("\r\n" + big + "\r\n", 7), (std::vector<Expected>{{Kind::kLine, big}}));
}

TEST(Framer, ResetDropsPartialState) {
  Framer framer;
  std::vector<std::string> lines;
  auto sink = [&](Frame&& f) { lines.push_back(f.data); };
  framer.feed("garbage-without-end", sink);
  EXPECT_TRUE(framer.mid_frame());
  framer.reset();
  EXPECT_FALSE(framer.mid_frame());
  framer.feed("\r\nRDY\r\n", sink);
  EXPECT_EQ(lines, std::vector<std::string>{"RDY"});
}

}  // namespace
}  // namespace modem::at
