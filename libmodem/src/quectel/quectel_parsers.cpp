// Parsers for the lines a Quectel module sends: result URCs of the QMT command set (EC2x MQTT AN,
// seed 001, chapters 3 and 4), +QMTRECV in every shape seen (field-notes.md 1.1, 1.15, 2.1), and
// the 27.007 / Quectel status lines the session reads (+CEREG, +CPIN, +CSQ, +COPS, +QNWINFO,
// +QIACT, +QCCID, +QIURC "pdpdeact").
//
// Every parser takes one line as the framer delivers it (no CR/LF around it) and returns nullopt
// for anything it does not recognise: it never throws and never reads past the view. Optional
// spaces after the colon and after commas are accepted because some firmware writes ", "
// (field-notes.md 2.7).
#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "modem/quectel/dialect.hpp"

namespace modem::quectel {

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back()))
    s.remove_suffix(1);
  return s;
}

// The arguments after `prefix` ("+QMTSTAT:"), split at the commas that are outside double quotes
// and trimmed of blanks. nullopt when the line does not start with `prefix` or a quote is left open.
// Only for lines whose quoted fields cannot hold a quote (not +QMTRECV: see read_recv_head).
std::optional<std::vector<std::string_view>> arguments(std::string_view line, std::string_view prefix) {
  if (!line.starts_with(prefix)) return std::nullopt;
  const std::string_view rest = line.substr(prefix.size());
  std::vector<std::string_view> out;
  bool quoted = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '"') {
      quoted = !quoted;
    } else if (rest[i] == ',' && !quoted) {
      out.push_back(trim(rest.substr(start, i - start)));
      start = i + 1;
    }
  }
  if (quoted) return std::nullopt;
  out.push_back(trim(rest.substr(start)));
  return out;
}

// A decimal integer and nothing else ("-1" included: +QMTOPEN / +QMTCLOSE / +QMTDISC results).
std::optional<int> to_int(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int value = 0;
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::optional<int> to_int_in(std::string_view s, int lo, int hi) {
  const auto v = to_int(s);
  if (!v || *v < lo || *v > hi) return std::nullopt;
  return v;
}

// "text" -> text; nullopt unless the field is exactly one quoted string.
std::optional<std::string_view> unquote(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::nullopt;
  s = s.substr(1, s.size() - 2);
  if (s.find('"') != std::string_view::npos) return std::nullopt;
  return s;
}

// A field that firmware writes either quoted or bare (+QNWINFO's operator code: "46001" or 46001).
std::string_view quoted_or_bare(std::string_view s) {
  if (const auto inner = unquote(s)) return *inner;
  return s;
}

// Between `min_count` and `max_count` integers, the first a valid client index.
std::optional<std::vector<int>> integers(std::string_view line, std::string_view prefix,
                                         std::size_t min_count, std::size_t max_count) {
  const auto args = arguments(line, prefix);
  if (!args || args->size() < min_count || args->size() > max_count) return std::nullopt;
  std::vector<int> out;
  out.reserve(args->size());
  for (const std::string_view a : *args) {
    const auto v = to_int(a);
    if (!v) return std::nullopt;
    out.push_back(*v);
  }
  if (out.empty() || out[0] < 0 || out[0] >= kClientIndexCount) return std::nullopt;
  return out;
}

std::optional<MqttResult> client_and_result(std::string_view line, std::string_view prefix) {
  const auto v = integers(line, prefix, 2, 2);
  if (!v) return std::nullopt;
  return MqttResult{(*v)[0], (*v)[1]};
}

// ---- +QMTRECV ---------------------------------------------------------------------------------
//
// The payload is not escaped (field-notes.md 2.1): quotes, commas, CR and LF go out raw, so the
// line cannot be split at commas. The head is read field by field instead, and the same reading
// serves parse_qmtrecv and qmtrecv_line_extension, so the framer and the parser always agree on
// where a payload starts and how long it is.

struct RecvHead {
  enum class Form {
    kQuoted,    // ,"<payload>"           recv/mode msg_len_enable 0 (field-notes.md 1.1)
    kLength,    // ,<len>,"<payload>"     msg_len_enable 1 (AN 4.2, field-notes.md 1.15, 2.1)
    kSplit,     // ,<len> CR LF <payload> EC200U split format (field-notes.md 2.1, DEV-CLAIM)
    kUnquoted,  // ,<payload>             claimed by some drivers (field-notes.md 2.1, DEV-CLAIM)
  };
  int client = 0;
  int msgid = 0;
  std::string_view topic;
  Form form = Form::kQuoted;
  // kQuoted / kLength: the first byte after the payload's opening quote; kSplit: the first byte
  // after <len>; kUnquoted: the first payload byte.
  std::size_t payload_at = 0;
  std::size_t length = 0;  // kLength, kSplit
};

std::size_t skip_blanks(std::string_view s, std::size_t i) {
  while (i < s.size() && is_blank(s[i]))
    ++i;
  return i;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Digits from `i` into `value`; returns the index after them, or nullopt when there are none or
// they overflow.
template <typename Int>
std::optional<std::size_t> read_digits(std::string_view s, std::size_t i, Int& value) {
  std::size_t j = i;
  while (j < s.size() && is_digit(s[j]))
    ++j;
  if (j == i) return std::nullopt;
  const auto [ptr, ec] = std::from_chars(s.data() + i, s.data() + j, value);
  if (ec != std::errc() || ptr != s.data() + j) return std::nullopt;
  return j;
}

// Reads "+QMTRECV: <idx>,<msgid>,"<topic>"," and what announces the payload. nullopt for the
// numeric forms (buffered notice, AT+QMTRECV? status) and for anything that is not a message head.
// The topic ends at the first `",` after its opening quote: a topic that itself contains `",`
// cannot be told apart from the end of the field and is not supported.
std::optional<RecvHead> read_recv_head(std::string_view line) {
  constexpr std::string_view kPrefix = "+QMTRECV:";
  if (!line.starts_with(kPrefix)) return std::nullopt;
  RecvHead head;
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
  const std::size_t topic_at = i + 1;
  const std::size_t topic_end = line.find("\",", topic_at);
  if (topic_end == std::string_view::npos) return std::nullopt;
  head.topic = line.substr(topic_at, topic_end - topic_at);
  i = skip_blanks(line, topic_end + 2);
  if (i >= line.size()) return std::nullopt;  // the payload has not begun
  if (line[i] == '"') {
    head.form = RecvHead::Form::kQuoted;
    head.payload_at = i + 1;
    return head;
  }
  if (is_digit(line[i])) {
    std::size_t length = 0;
    const auto after = read_digits(line, i, length);
    if (!after) return std::nullopt;  // a length beyond size_t: corrupt
    if (*after == line.size() || line[*after] == '\r' || line[*after] == '\n') {
      head.form = RecvHead::Form::kSplit;
      head.payload_at = *after;
      head.length = length;
      return head;
    }
    std::size_t k = skip_blanks(line, *after);
    if (k < line.size() && line[k] == ',') {
      k = skip_blanks(line, k + 1);
      if (k >= line.size()) return std::nullopt;  // "<len>," and the line broke: corrupt
      if (line[k] == '"') {
        head.form = RecvHead::Form::kLength;
        head.payload_at = k + 1;
        head.length = length;
        return head;
      }
    }
  }
  head.form = RecvHead::Form::kUnquoted;
  head.payload_at = i;
  return head;
}

std::optional<std::string> recv_payload(std::string_view line, const RecvHead& head) {
  const std::size_t size = line.size();
  switch (head.form) {
    case RecvHead::Form::kQuoted:
      // Everything between the payload's opening quote and the line's final quote.
      if (size < head.payload_at + 1 || line.back() != '"') return std::nullopt;
      return std::string(line.substr(head.payload_at, size - 1 - head.payload_at));
    case RecvHead::Form::kLength:
      // Exact: <len> bytes, the closing quote, and nothing after it.
      if (head.length > size - head.payload_at || size - head.payload_at != head.length + 1 ||
          line.back() != '"') {
        return std::nullopt;
      }
      return std::string(line.substr(head.payload_at, head.length));
    case RecvHead::Form::kSplit: {
      // <len> bytes after one line end (CR LF, or a lone CR or LF).
      const std::string_view rest = line.substr(head.payload_at);
      if (rest.starts_with("\r\n") && rest.size() - 2 == head.length) return std::string(rest.substr(2));
      if (!rest.empty() && (rest[0] == '\r' || rest[0] == '\n') && rest.size() - 1 == head.length) {
        return std::string(rest.substr(1));
      }
      return std::nullopt;  // the header alone ("...,23"), or a payload of the wrong length
    }
    case RecvHead::Form::kUnquoted:
      return std::string(line.substr(head.payload_at));
  }
  return std::nullopt;
}

}  // namespace

// ---- MQTT result URCs ---------------------------------------------------------------------------

std::optional<MqttStatus> parse_qmtstat(std::string_view line) {
  const auto r = client_and_result(line, "+QMTSTAT:");
  if (!r) return std::nullopt;
  return MqttStatus{r->client, r->result};
}

// The read answer "+QMTOPEN: 0,"broker",1883" (AT+QMTOPEN?) is not a result and gives nullopt.
std::optional<MqttResult> parse_qmtopen(std::string_view line) {
  return client_and_result(line, "+QMTOPEN:");
}

std::optional<MqttResult> parse_qmtclose(std::string_view line) {
  return client_and_result(line, "+QMTCLOSE:");
}

std::optional<MqttResult> parse_qmtdisc(std::string_view line) {
  return client_and_result(line, "+QMTDISC:");
}

// "+QMTCONN: <idx>,<state>" (the AT+QMTCONN? answer) has the same shape as a result without
// <ret_code>; which one a line is follows from whether it answered the read command.
std::optional<ConnectResult> parse_qmtconn(std::string_view line) {
  const auto v = integers(line, "+QMTCONN:", 2, 3);
  if (!v) return std::nullopt;
  ConnectResult r{(*v)[0], (*v)[1], std::nullopt};
  if (v->size() == 3) r.return_code = (*v)[2];
  return r;
}

std::optional<PacketResult> parse_packet_result(std::string_view line) {
  static constexpr std::string_view kPrefixes[] = {"+QMTPUBEX:", "+QMTPUB:", "+QMTSUB:", "+QMTUNS:"};
  for (const std::string_view prefix : kPrefixes) {
    if (!line.starts_with(prefix)) continue;
    // <idx>,<msgid>,<result>[,<value>...]: one granted QoS per topic for SUB, a count for result 1.
    const auto v = integers(line, prefix, 3, 3 + 64);
    if (!v) return std::nullopt;
    const int msgid = (*v)[1];
    const int result = (*v)[2];
    // AN 3.3.5-3.3.7: msgID 0-65535, result 0 acknowledged, 1 retransmitted, 2 failed. Anything
    // else is not this shape (the AN's figure 1 writes the notice as "+QMTSUB: tcpidx,1,msgId").
    if (msgid < 0 || msgid > 65535 || result < 0 || result > 2) return std::nullopt;
    return PacketResult{(*v)[0], msgid, result, std::vector<int>(v->begin() + 3, v->end())};
  }
  return std::nullopt;
}

// ---- +QMTRECV -----------------------------------------------------------------------------------

std::optional<QmtRecv> parse_qmtrecv(std::string_view line) {
  if (const auto head = read_recv_head(line)) {
    auto payload = recv_payload(line, *head);
    if (!payload) return std::nullopt;
    return ReceivedMessage{head->client, head->msgid, std::string(head->topic), std::move(*payload)};
  }
  // The numeric forms: "+QMTRECV: <idx>,<recv_id>" (a message waits in buffer <recv_id>, AN 4.2
  // [3]) and "+QMTRECV: <idx>,<s0>,...,<s4>" (the AT+QMTRECV? answer, field-notes.md 1.15).
  const auto v = integers(line, "+QMTRECV:", 2, 2 + 4);
  if (!v) return std::nullopt;
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

// The framer asks at every CR/LF of a "+QMTRECV:" line how many more bytes, counted from that
// CR/LF, still belong to it. The answers follow the head read_recv_head() finds:
//   with <len>:       the rest of the <len> payload bytes and the closing quote;
//   split (,<len>):   the line end after <len>, then <len> payload bytes;
//   without <len>:    one byte at a time until the line ends in the payload's closing quote;
//   anything else:    0, the line ends here.
// A declared length above kMaxReceivedPayload, or a length-less payload that grew past it, ends the
// line: a corrupt head must not swallow the OK and the URCs behind it (the framer caps lines too).
std::size_t qmtrecv_line_extension(std::string_view line_so_far) {
  const auto head = read_recv_head(line_so_far);
  if (!head) return 0;
  const std::size_t size = line_so_far.size();
  switch (head->form) {
    case RecvHead::Form::kQuoted: {
      const std::size_t have = size - head->payload_at;
      if (have > 0 && line_so_far.back() == '"') return 0;  // best effort: see the header
      return have >= kMaxReceivedPayload ? 0 : 1;
    }
    case RecvHead::Form::kLength: {
      if (head->length > kMaxReceivedPayload) return 0;
      const std::size_t total = head->payload_at + head->length + 1;
      return total > size ? total - size : 0;
    }
    case RecvHead::Form::kSplit: {
      if (head->length > kMaxReceivedPayload) return 0;
      const std::size_t h = head->payload_at;
      if (size == h) return 1;  // the line end after <len> is the separator
      // "...,23\r" and now (most likely) its LF: the LF and then the payload.
      if (size == h + 1 && line_so_far[h] == '\r') return head->length + 1;
      const std::size_t separator = line_so_far.substr(h).starts_with("\r\n") ? 2 : 1;
      const std::size_t total = h + separator + head->length;
      return total > size ? total - size : 0;
    }
    case RecvHead::Form::kUnquoted:
      return 0;
  }
  return 0;
}

// ---- PDP ------------------------------------------------------------------------------------------

// +QIURC: "pdpdeact",<cid>: the network deactivated the context (field-notes.md 1.6).
std::optional<int> parse_pdp_deactivated(std::string_view line) {
  const auto args = arguments(line, "+QIURC:");
  if (!args || args->size() != 2) return std::nullopt;
  const auto what = unquote((*args)[0]);
  if (!what || *what != "pdpdeact") return std::nullopt;
  return to_int_in((*args)[1], 1, 16);
}

// +QIACT: <cid>,<state>,<type>[,"<address>"] (field-notes.md 1.1, 1.12). An IPv4v6 context may
// list a second address; the first is kept.
std::optional<PdpStatus> parse_qiact(std::string_view line) {
  const auto args = arguments(line, "+QIACT:");
  if (!args || args->size() < 3) return std::nullopt;
  const auto cid = to_int_in((*args)[0], 1, 16);
  const auto state = to_int_in((*args)[1], 0, 1);
  const auto type = to_int((*args)[2]);
  if (!cid || !state || !type) return std::nullopt;
  PdpStatus status{*cid, *state == 1, {}};
  if (args->size() > 3) {
    const auto address = unquote((*args)[3]);
    if (!address) return std::nullopt;
    status.address = std::string(*address);
  }
  return status;
}

// ---- registration and network -----------------------------------------------------------------

namespace {

std::optional<std::pair<Registration, std::string_view>> registration_kind(std::string_view line) {
  for (const Registration kind : {Registration::kCs, Registration::kGprs, Registration::kEps}) {
    if (line.starts_with(prefix(kind))) return std::pair{kind, std::string_view(prefix(kind))};
  }
  return std::nullopt;
}

// <lac|tac>,<ci> are quoted hex strings, and may be left empty from 27.007 n=3 on.
bool is_location_field(std::string_view s) {
  return s.empty() || unquote(s).has_value();
}

// The fields from <stat> on: <stat>[,<tac>,<ci>[,<AcT>[,...]]].
std::optional<RegistrationStatus> registration_from(Registration kind,
                                                    const std::vector<std::string_view>& args,
                                                    std::size_t stat_at) {
  const std::size_t n = args.size() - stat_at;
  if (n == 2) return std::nullopt;  // <stat> and half a location
  const auto stat = to_int_in(args[stat_at], 0, 255);
  if (!stat) return std::nullopt;
  RegistrationStatus status{kind, *stat, std::nullopt};
  if (n >= 3) {
    if (!is_location_field(args[stat_at + 1]) || !is_location_field(args[stat_at + 2])) return std::nullopt;
  }
  if (n >= 4 && !args[stat_at + 3].empty()) {
    status.access_technology = to_int_in(args[stat_at + 3], 0, 255);
    if (!status.access_technology) return std::nullopt;
  }
  return status;
}

}  // namespace

const char* prefix(Registration kind) {
  switch (kind) {
    case Registration::kCs:
      return "+CREG:";
    case Registration::kGprs:
      return "+CGREG:";
    case Registration::kEps:
      return "+CEREG:";
  }
  return "+CREG:";
}

bool is_registered(int stat) {
  return stat == 1 || stat == 5;
}

// The URC: "+CEREG: 5" or "+CEREG: 1,"1A2B","01234567",7". "+CEREG: 0,5" is a read answer
// (<n>,<stat>: field-notes.md 1.1) and gives nullopt here.
std::optional<RegistrationStatus> parse_registration_urc(std::string_view line) {
  const auto kind = registration_kind(line);
  if (!kind) return std::nullopt;
  const auto args = arguments(line, kind->second);
  if (!args) return std::nullopt;
  return registration_from(kind->first, *args, 0);
}

std::optional<RegistrationStatus> parse_registration_read(std::string_view line) {
  const auto kind = registration_kind(line);
  if (!kind) return std::nullopt;
  const auto args = arguments(line, kind->second);
  if (!args || args->size() < 2 || !to_int_in((*args)[0], 0, 5)) return std::nullopt;
  return registration_from(kind->first, *args, 1);
}

SimState parse_sim_status(std::string_view line) {
  if (!line.starts_with("+CPIN:")) return SimState::kOther;
  const std::string_view code = trim(line.substr(6));
  if (code == "READY") return SimState::kReady;
  if (code == "SIM PIN") return SimState::kPinRequired;
  if (code == "SIM PUK") return SimState::kPukRequired;
  if (code == "NOT INSERTED") return SimState::kNotInserted;
  return SimState::kOther;  // SIM PIN2, PH-SIM PIN, NOT READY, ...
}

bool cme_means_sim_missing(int cme_error) {
  return cme_error == 10 || cme_error == 13;  // 27.007 §9.2.1: SIM not inserted, SIM failure
}

// 27.007 §8.5: <rssi> 0 = -113 dBm or less, 1 = -111, 2..30 = -109..-53, 31 = -51 or more,
// 99 = unknown; 100..191 = -116..-25 dBm (the extended range some firmware uses).
std::optional<int> parse_csq_dbm(std::string_view line) {
  const auto args = arguments(line, "+CSQ:");
  if (!args || args->size() != 2 || !to_int((*args)[1])) return std::nullopt;
  const auto rssi = to_int((*args)[0]);
  if (!rssi) return std::nullopt;
  if (*rssi >= 0 && *rssi <= 31) return -113 + 2 * *rssi;
  if (*rssi >= 100 && *rssi <= 191) return -116 + (*rssi - 100);
  return std::nullopt;
}

// +QCCID: 89860318760239587428 (hex digits: some ICCIDs end in an F filler).
std::optional<std::string> parse_iccid(std::string_view line) {
  if (!line.starts_with("+QCCID:")) return std::nullopt;
  const std::string_view id = trim(line.substr(7));
  if (id.size() < 10 || id.size() > 24) return std::nullopt;
  for (const char c : id) {
    const bool hex = is_digit(c) || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
    if (!hex) return std::nullopt;
  }
  return std::string(id);
}

// +COPS: <mode>[,<format>,"<oper>"[,<AcT>]]; "+COPS: 0" (not registered) gives nullopt.
std::optional<OperatorInfo> parse_cops(std::string_view line) {
  const auto args = arguments(line, "+COPS:");
  if (!args || args->size() < 3 || !to_int((*args)[0]) || !to_int((*args)[1])) return std::nullopt;
  const auto name = unquote((*args)[2]);
  if (!name) return std::nullopt;
  OperatorInfo info{std::string(*name), std::nullopt};
  if (args->size() > 3) {
    info.access_technology = to_int((*args)[3]);
    if (!info.access_technology) return std::nullopt;
  }
  return info;
}

// +QNWINFO: "FDD LTE","46001","LTE BAND 3",1650 (the operator code quoted or not, by firmware);
// "+QNWINFO: No Service" gives nullopt.
std::optional<NetworkInfo> parse_qnwinfo(std::string_view line) {
  const auto args = arguments(line, "+QNWINFO:");
  if (!args || args->size() < 3) return std::nullopt;
  const auto act = unquote((*args)[0]);
  const auto band = unquote((*args)[2]);
  const std::string_view op = quoted_or_bare((*args)[1]);
  if (!act || !band || op.find('"') != std::string_view::npos) return std::nullopt;
  return NetworkInfo{std::string(*act), std::string(op), std::string(*band)};
}

}  // namespace modem::quectel
