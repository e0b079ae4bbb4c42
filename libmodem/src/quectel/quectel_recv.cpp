// +QMTRECV: how a received message is framed and read (MQTT AN 4.2, seed 001; field-notes.md 1.1,
// 1.15, 2.1).
//
// The module escapes nothing: the topic may hold quotes, commas and digits, the payload anything at
// all. Whoever may publish to a topic the module subscribes to therefore writes bytes into the
// module's output, and a reader that trusts the first `",` or the first line end can be made to
// read a forged +QMTSTAT, +QMTPUBEX or +QMTRECV out of a payload (issue 18). Two rules keep that
// from happening:
//   - A line break inside a message is never trusted. The line's end comes from its length field,
//     and a length field is only one *reading* of the line: a topic such as `cmd",1,"x` holds a
//     second one. Every reading is offered to the framer, which keeps the line whole until the
//     bytes that follow leave exactly one (a reading is right only if its last byte is the quote
//     and a line end follows); if several stay possible, nothing of those bytes becomes a line.
//   - A complete line is a message only if exactly one reading fits it; otherwise it is refused.
#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "at/lexing.hpp"
#include "modem/quectel/quectel_at.hpp"

namespace modem::quectel {

using namespace lexing;

namespace {

constexpr std::string_view kPrefix = "+QMTRECV:";

struct MessageHead {
  int client = 0;
  int msgid = 0;
  std::size_t topic_at = 0;  // the first byte after the topic's opening quote
};

// "+QMTRECV: <idx>,<msgid>,"": nullopt for the numeric forms and anything else.
std::optional<MessageHead> read_message_head(std::string_view line) {
  if (!line.starts_with(kPrefix)) return std::nullopt;
  MessageHead head;
  std::size_t i = skip_blanks(line, kPrefix.size());
  auto next = read_digits(line, i, head.client);
  if (!next || head.client >= kClientIndexCount) return std::nullopt;
  i = skip_blanks(line, *next);
  if (i >= line.size() || line[i] != ',') return std::nullopt;
  i = skip_blanks(line, i + 1);
  next = read_digits(line, i, head.msgid);
  if (!next || head.msgid > 65535) return std::nullopt;
  i = skip_blanks(line, *next);
  if (i >= line.size() || line[i] != ',') return std::nullopt;
  i = skip_blanks(line, i + 1);
  if (i >= line.size() || line[i] != '"') return std::nullopt;
  head.topic_at = i + 1;
  return head;
}

// One way a message line may be cut into topic, length and payload.
struct LengthReading {
  std::size_t topic_end = 0;   // the topic's closing quote
  std::size_t payload_at = 0;  // the payload's first byte
  std::size_t length = 0;      // the declared payload length
  bool split = false;          // ",<len>" then a line break, then the payload, no quotes

  std::size_t line_length() const { return payload_at + length + (split ? 0 : 1); }
};

// Every `",<len>,"` in `segment` (a line up to its first CR/LF, which is `line_break`), and a
// `",<len>` that ends it (the split form). The real one is among them: a length field holds no
// line break and precedes the payload.
std::vector<LengthReading> length_readings(std::string_view segment, std::size_t topic_at, char line_break) {
  std::vector<LengthReading> readings;
  for (std::size_t quote = segment.find('"', topic_at); quote != std::string_view::npos;
       quote = segment.find('"', quote + 1)) {
    if (quote + 1 >= segment.size() || segment[quote + 1] != ',') continue;
    std::size_t length = 0;
    const auto after = read_digits(segment, skip_blanks(segment, quote + 2), length);
    if (!after || length > kMaxMqttPayload) continue;
    if (*after == segment.size()) {
      // EC200U split form: the payload starts after this line break (CR LF, or a lone CR or LF).
      const std::size_t separator = line_break == '\r' ? 2 : 1;
      readings.push_back({quote, segment.size() + separator, length, true});
      continue;
    }
    std::size_t k = skip_blanks(segment, *after);
    if (k >= segment.size() || segment[k] != ',') continue;
    k = skip_blanks(segment, k + 1);
    if (k < segment.size() && segment[k] == '"') readings.push_back({quote, k + 1, length, false});
  }
  return readings;
}

std::size_t first_line_break(std::string_view line, std::size_t from) {
  const std::size_t at = line.find_first_of("\r\n", from);
  return at == std::string_view::npos ? line.size() : at;
}

// Whether `reading` fits the whole of `line`, whose first line break is at `segment_end`: it ends
// exactly where the line ends, in a quote, or (split) after exactly the line break it assumed.
bool fits(const LengthReading& r, std::string_view line, std::size_t segment_end) {
  if (r.line_length() != line.size()) return false;
  if (!r.split) return line.back() == '"';
  const std::string_view separator = line.substr(segment_end, r.payload_at - segment_end);
  return separator == "\r\n" || separator == "\r" || separator == "\n";
}

// Without a length: "<topic>","<payload>" up to the line's final quote; the topic ends at the first
// `","` (blanks allowed after the comma, field-notes.md 2.7).
std::optional<ReceivedMessage> without_length(std::string_view line, const MessageHead& head) {
  if (line.size() < head.topic_at + 3 || line.back() != '"') return std::nullopt;
  for (std::size_t quote = line.find("\",", head.topic_at); quote != std::string_view::npos;
       quote = line.find("\",", quote + 1)) {
    const std::size_t open = skip_blanks(line, quote + 2);
    if (open >= line.size() - 1 || line[open] != '"') continue;
    return ReceivedMessage{head.client, head.msgid,
                           std::string(line.substr(head.topic_at, quote - head.topic_at)),
                           std::string(line.substr(open + 1, line.size() - open - 2)), false};
  }
  return std::nullopt;
}

// "+QMTRECV: <idx>,<recv_id>" (a message waits in buffer <recv_id>, AN 4.2 [3]) and
// "+QMTRECV: <idx>,<s0>,...,<s4>" (the AT+QMTRECV? answer, field-notes.md 1.15).
std::optional<QmtRecv> numeric_form(std::string_view line) {
  const auto v = integers(line, kPrefix, 2, 2 + 4);
  if (!v || (*v)[0] < 0 || (*v)[0] >= kClientIndexCount) return std::nullopt;
  if (v->size() == 2) {
    if ((*v)[1] < 0) return std::nullopt;
    return BufferedMessage{(*v)[0], (*v)[1]};
  }
  if (v->size() != 6) return std::nullopt;
  BufferStatus status{(*v)[0], {}};
  for (std::size_t i = 1; i < v->size(); ++i) {
    if ((*v)[i] != 0 && (*v)[i] != 1) return std::nullopt;
    status.stored.push_back((*v)[i] == 1);
  }
  return status;
}

}  // namespace

at::LineEnds qmtrecv_line_ends(std::string_view first_segment, char line_break, RecvFraming framing) {
  at::LineEnds ends;
  const auto head = read_message_head(first_segment);
  if (!head) return ends;  // a numeric form, or not a message: it ends here
  if (framing == RecvFraming::kWithLength) {
    for (const LengthReading& r : length_readings(first_segment, head->topic_at, line_break)) {
      // One that ends before this first line break is a length field inside the topic: without
      // a line break there, it is not the line's.
      if (r.line_length() >= first_segment.size())
        ends.readings.push_back({r.line_length(), r.split ? '\0' : '"'});
    }
    if (!ends.readings.empty()) return ends;
    // No length field at all (firmware that ignores msg_len_enable): read as without one.
  }
  ends.until_quiet = true;
  ends.quiet_last = '"';
  // The payload's closing quote comes after its opening one, `","` after the topic (or after this
  // line break, when the first segment ends inside the topic).
  ends.quiet_from = first_segment.size();
  for (std::size_t quote = first_segment.find("\",", head->topic_at); quote != std::string_view::npos;
       quote = first_segment.find("\",", quote + 1)) {
    const std::size_t open = skip_blanks(first_segment, quote + 2);
    if (open < first_segment.size() && first_segment[open] == '"') {
      ends.quiet_from = open + 1;
      break;
    }
  }
  return ends;
}

std::optional<QmtRecv> parse_qmtrecv(std::string_view line, RecvFraming framing) {
  const auto head = read_message_head(line);
  if (!head) return numeric_form(line);
  if (framing == RecvFraming::kWithLength) {
    const std::size_t segment_end = first_line_break(line, head->topic_at);
    const char line_break = segment_end < line.size() ? line[segment_end] : '\r';
    const auto readings = length_readings(line.substr(0, segment_end), head->topic_at, line_break);
    if (!readings.empty()) {
      std::vector<const LengthReading*> fitting;
      for (const LengthReading& r : readings) {
        if (fits(r, line, segment_end)) fitting.push_back(&r);
      }
      if (fitting.size() > 1) return AmbiguousMessage{head->client, head->msgid, fitting.size()};
      if (fitting.empty()) return std::nullopt;
      const LengthReading& r = *fitting.front();
      return ReceivedMessage{head->client, head->msgid,
                             std::string(line.substr(head->topic_at, r.topic_end - head->topic_at)),
                             std::string(line.substr(r.payload_at, r.length))};
    }
  }
  if (auto message = without_length(line, *head)) return *message;
  return std::nullopt;
}

}  // namespace modem::quectel
