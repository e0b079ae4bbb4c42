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
  static const char* names[] = {"line", "prompt", "raw", "overflow", "unframeable"};
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

// ---- long lines ----------------------------------------------------------------------------------
//
// A test reader: "+X: n1 n2 ..." declares readings of n bytes after the first segment (the CR/LF
// that ends it included), each ending in '"'; "+Q: ..." has no length and waits for silence.
LineEnds test_reader(std::string_view segment, char) {
  LineEnds ends;
  if (segment.starts_with("+Q:")) {
    ends.until_quiet = true;
    ends.quiet_last = '"';
    return ends;
  }
  std::size_t i = 3;
  while (i < segment.size()) {
    while (i < segment.size() && segment[i] == ' ')
      ++i;
    std::size_t n = 0;
    bool digits = false;
    while (i < segment.size() && segment[i] >= '0' && segment[i] <= '9') {
      n = n * 10 + static_cast<std::size_t>(segment[i++] - '0');
      digits = true;
    }
    if (!digits) break;
    ends.readings.push_back({segment.size() + n, '"'});
  }
  return ends;
}

const Framer::LineReader kTestReader = test_reader;

void with_readers(Framer& f) {
  f.set_reader_lookup([](std::string_view line) -> const Framer::LineReader* {
    return line.starts_with("+X:") || line.starts_with("+Q:") ? &kTestReader : nullptr;
  });
}

// Feeds each part in chunks of `chunk` bytes and lets the line fall silent after each.
std::vector<Frame> frame_parts(const std::vector<std::string>& parts, std::size_t chunk,
                               FramerConfig config = {}) {
  Framer framer(config);
  with_readers(framer);
  std::vector<Frame> frames;
  auto sink = [&](Frame&& f) { frames.push_back(std::move(f)); };
  for (const std::string& part : parts) {
    for (std::size_t i = 0; i < part.size(); i += chunk)
      framer.feed(std::string_view(part).substr(i, chunk), sink);
    EXPECT_EQ(framer.awaiting_quiet(), framer.mid_frame() && framer.awaiting_quiet());
    framer.quiet(sink);
    EXPECT_FALSE(framer.awaiting_quiet());
  }
  return frames;
}

std::vector<Expected> kinds_and_data(const std::vector<Frame>& frames) {
  std::vector<Expected> out;
  for (const Frame& f : frames)
    out.push_back({f.kind, f.data});
  return out;
}

void expect_parts(const std::vector<std::string>& parts, const std::vector<Expected>& expected) {
  std::size_t total = 0;
  for (const auto& part : parts)
    total += part.size();
  for (std::size_t chunk = 1; chunk <= total; ++chunk)
    ASSERT_EQ(kinds_and_data(frame_parts(parts, chunk)), expected) << "chunk size " << chunk;
}

TEST(FramerLongLine, OneReadingTakesExactlyItsBytesWhateverTheyHold) {
  // The data after "+X: 22" holds CR, LF, whole fake lines and ends in the quote.
  const std::string data = "\r\nOK\r\n+QMTSTAT: 0,1\r\n\"";
  ASSERT_EQ(data.size(), 22u);
  expect_parts({"\r\n+X: 22" + data + "\r\n\r\nOK\r\n"},
               {{Kind::kLine, "+X: 22" + data}, {Kind::kLine, "OK"}});
}

TEST(FramerLongLine, AReadingMayEndAtTheFirstLineEnd) {
  // "+X: 0" declares nothing after the first segment: right when the segment ends in the quote.
  expect_parts({"\r\n+X: 0 \"\r\nOK\r\n"}, {{Kind::kLine, "+X: 0 \""}, {Kind::kLine, "OK"}});
  // Wrong when it does not: nothing of what follows may be framed until silence.
  const auto frames = frame_parts({"\r\n+X: 0 x\r\nOK\r\n", "\r\nOK\r\n"}, 1);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].kind, Kind::kUnframeable);
  EXPECT_EQ(frames[0].data, "+X: 0 x\r\nOK\r\n");
  EXPECT_EQ(frames[1].data, "OK");
}

TEST(FramerLongLine, TheBytesThatFollowDecideBetweenTwoReadings) {
  // Two readings: 7 bytes (the data's own quote and CR are at the right place for it) and 23.
  // The first looks right at its end ('"' then CR), but the second is still open; at byte 23 the
  // second is right too only if '"' and a line end are there. Here they are not: the first wins
  // and everything after it is framed afresh, line by line.
  const std::string head = "+X: 7 23";
  const std::string after = "\r\nabcd\"\r\n+QMTSTAT: 0,1\r\nOK\r\n";
  expect_parts({"\r\n" + head + after},
               {{Kind::kLine, head + "\r\nabcd\""}, {Kind::kLine, "+QMTSTAT: 0,1"}, {Kind::kLine, "OK"}});
}

TEST(FramerLongLine, AForgedReadingTheBytesProveWrongLosesToTheRealOne) {
  // A hostile topic makes a 4-byte reading, which the data's bytes prove wrong (no quote and line
  // end after its 4th byte); the real one declares 29 bytes and is right. The fake lines inside
  // the data stay data.
  const std::string head = "+X: 4 29";
  const std::string data = "\r\nab\"\r\n+QMTSTAT: 0,1\r\nOK\r\nxy\"";
  ASSERT_EQ(data.size(), 29u);
  expect_parts({"\r\n" + head + data + "\r\n\r\n+QMTPUBEX: 0,1,0\r\n"},
               {{Kind::kLine, head + data}, {Kind::kLine, "+QMTPUBEX: 0,1,0"}});
}

TEST(FramerLongLine, TwoRightReadingsPassOnOnlyTheLinesEveryReadingAgreesOn) {
  // Both the 5-byte and the 29-byte reading end in '"' and a line end: which one the module meant
  // cannot be known. The line is reported; what follows is framed once per reading, and only the
  // lines both framings have at the same place pass: the fake +QMTSTAT: 0,1 and OK inside the
  // data do not, the +QMTSTAT: 0,2 after the line does.
  const std::string head = "+X: 5 29";
  const std::string data = "\r\nab\"\r\n+QMTSTAT: 0,1\r\nOK\r\nxy\"";
  const std::string input = "\r\n" + head + data + "\r\n\r\n+QMTSTAT: 0,2\r\n";
  for (std::size_t chunk = 1; chunk <= input.size(); ++chunk) {
    const auto frames = frame_parts({input, "\r\nOK\r\n"}, chunk);
    ASSERT_EQ(frames.size(), 3u) << "chunk " << chunk;
    EXPECT_EQ(frames[0].kind, Kind::kUnframeable);
    EXPECT_EQ(frames[0].size, head.size() + data.size());
    EXPECT_EQ(frames[0].data, (head + data).substr(0, 80));
    EXPECT_EQ(frames[1].kind, Kind::kLine);
    EXPECT_EQ(frames[1].data, "+QMTSTAT: 0,2");
    EXPECT_EQ(frames[2].data, "OK");
  }
}

TEST(FramerLongLine, AfterADoubtfulLineFramingGoesOnAsUsualOnceTheReadingsAgree) {
  // Once both framings rest between lines at the same byte, they are one again: a prompt the
  // channel waits for and a long line after that are framed as usual.
  const std::string head = "+X: 5 29";
  const std::string data = "\r\nab\"\r\n+QMTSTAT: 0,1\r\nOK\r\nxy\"";
  const std::string more = "+X: 4\r\na\"";
  const std::string input = "\r\n" + head + data + "\r\n\r\nOK\r\n\r\n" + more + "\r\n\r\n> ";
  for (std::size_t chunk = 1; chunk <= input.size(); ++chunk) {
    Framer framer;
    with_readers(framer);
    framer.expect_prompt(true);
    std::vector<Expected> frames;
    for (std::size_t i = 0; i < input.size(); i += chunk) {
      framer.feed(std::string_view(input).substr(i, chunk), [&](Frame&& f) {
        frames.push_back({f.kind, f.data});
      });
    }
    ASSERT_EQ(frames, (std::vector<Expected>{{Kind::kUnframeable, (head + data).substr(0, 80)},
                                             {Kind::kLine, "OK"},
                                             {Kind::kLine, more},
                                             {Kind::kPrompt, ">"}}))
        << "chunk " << chunk;
    EXPECT_FALSE(framer.awaiting_quiet());
  }
}

TEST(FramerLongLine, SilenceDecidesForTheReadingThatWasRightAlready) {
  // The 7-byte reading is right; the 500-byte one waits for bytes that never come. When the
  // module falls silent the line is the 7 bytes and what came after it is framed afresh.
  const std::string head = "+X: 7 500";
  expect_parts({"\r\n" + head + "\r\nabcd\"\r\n\r\nOK\r\n"},
               {{Kind::kLine, head + "\r\nabcd\""}, {Kind::kLine, "OK"}});
}

TEST(FramerLongLine, WithoutALengthTheLineEndsAtItsOnlyQuoteAndLineEndBeforeSilence) {
  // Line ends inside the data are fine as long as no quote comes right before one. Lines that
  // follow and do not end in a quote are framed afresh after the silence.
  const std::string line = "+Q: \"a\r\n+QMTSTAT: 0,1\r\nb\"";
  expect_parts({"\r\n" + line + "\r\n\r\nOK\r\n+QMTPUBEX: 0,3,0\r\n"},
               {{Kind::kLine, line}, {Kind::kLine, "OK"}, {Kind::kLine, "+QMTPUBEX: 0,3,0"}});
}

TEST(FramerLongLine, WithoutALengthTwoPossibleEndsPassOnOnlyWhatBothFramingsHave) {
  // A quote and a line end inside the data, or a second line ending in a quote in the same burst:
  // where the line ends cannot be known. The +QMTPUBEX after both possible ends is the module's.
  for (const std::string& burst : {"\r\n+Q: \"a\"\r\n+QMTSTAT: 0,1\r\nb\"\r\n\r\n+QMTPUBEX: 0,1,0\r\n"s,
                                   "\r\n+Q: \"a\"\r\n\r\n+Q: \"b\"\r\n\r\n+QMTPUBEX: 0,1,0\r\n"s}) {
    for (std::size_t chunk = 1; chunk <= burst.size(); ++chunk) {
      const auto frames = frame_parts({burst, "\r\nOK\r\n"}, chunk);
      ASSERT_EQ(frames.size(), 3u) << "chunk " << chunk;
      EXPECT_EQ(frames[0].kind, Kind::kUnframeable);
      EXPECT_EQ(frames[1].data, "+QMTPUBEX: 0,1,0");
      EXPECT_EQ(frames[2].data, "OK");
    }
  }
  // No quote before any line end: nothing can be framed.
  const auto frames = frame_parts({"\r\n+Q: abc\r\nOK\r\n"}, 1);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].kind, Kind::kUnframeable);
}

TEST(FramerLongLine, ADeclaredLengthOverTheLimitIsDiscardedExactlyNeverReframed) {
  FramerConfig config;
  config.max_line_bytes = 16;
  std::string data(60, 'x');
  data.replace(10, 19, "\r\n+QMTSTAT: 0,1\r\nOK");
  data.back() = '"';
  data.front() = '\r';  // the line break that ends the first segment counts as the first byte
  const std::string head = "+X: 60";
  const std::string input = "\r\n" + head + data + "\r\n\r\n+QMTPUBEX: 0,1,0\r\n";
  for (std::size_t chunk = 1; chunk <= input.size(); ++chunk) {
    const auto frames = frame_parts({input}, chunk, config);
    ASSERT_EQ(frames.size(), 2u) << "chunk " << chunk;
    EXPECT_EQ(frames[0].kind, Kind::kOverflow);
    EXPECT_EQ(frames[0].size, head.size() + data.size());
    EXPECT_EQ(frames[0].data, (head + data).substr(0, 16));
    EXPECT_EQ(frames[1].data, "+QMTPUBEX: 0,1,0");
  }
}

TEST(FramerLongLine, AnUnsureLineOverTheLimitIsDropped) {
  FramerConfig config;
  config.max_line_bytes = 16;
  const std::string data(30, 'y');
  const auto frames = frame_parts({"\r\n+X: 5 40" + data + "\r\nOK\r\n", "\r\nOK\r\n"}, 3, config);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].kind, Kind::kUnframeable);
  EXPECT_EQ(frames[1].data, "OK");
}

TEST(FramerLongLine, AFirstSegmentOverTheLimitIsDroppedNotCutAtTheNextLineEnd) {
  FramerConfig config;
  config.max_line_bytes = 16;
  const std::string input = "\r\n+X: 9 " + std::string(40, 'z') + "\r\n+QMTSTAT: 0,1\r\n";
  const auto frames = frame_parts({input, "\r\nOK\r\n"}, 5, config);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].kind, Kind::kUnframeable);
  EXPECT_EQ(frames[0].size, input.size() - 2);
  EXPECT_EQ(frames[1].data, "OK");
}

TEST(FramerLongLine, DeclaredBytesThatNeverComeAreDroppedAtSilence) {
  const auto frames = frame_parts({"\r\n+X: 50\r\nonly a few", "\r\nOK\r\n"}, 4);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].kind, Kind::kUnframeable);
  EXPECT_EQ(frames[1].data, "OK");
}

TEST(FramerLongLine, AReadingWhoseLineDoesNotEndWhereItSaysDropsUntilSilence) {
  // 4 bytes after the head, then no line end: the only reading is wrong, the rest is suspect.
  const auto frames = frame_parts({"\r\n+X: 4\r\nab\"zz\r\n+QMTSTAT: 0,1\r\n", "\r\nOK\r\n"}, 2);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].kind, Kind::kUnframeable);
  EXPECT_EQ(frames[1].data, "OK");
}

TEST(FramerLongLine, LinesWithoutAReaderAndNumericFormsAreUntouched) {
  // "+X:" with no reading ends where it is, like any line.
  expect_parts({"\r\n+X: none\r\nOK\r\n+QMTSTAT: 0,1\r\n"},
               {{Kind::kLine, "+X: none"}, {Kind::kLine, "OK"}, {Kind::kLine, "+QMTSTAT: 0,1"}});
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
