// The one-line status systemd shows (`systemctl status cellmqttd`, "Status:"): a person looking at
// a gateway must be able to act on it without reading the journal.
#include "status.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace cellmqttd {
namespace {

namespace ms = modem::session;
using namespace std::string_literals;

TEST(StatusLine, ConnectedNamesTheBrokerTheModuleAndTheSignal) {
  ms::ModuleInfo info;
  info.model = "EC200U";
  info.rssi_dbm = -65;
  StatusSnapshot s;
  s.state = ms::State::kReady;
  s.info = &info;
  s.upstream = "broker.example.com:1883";
  s.spool_depth = 3;
  EXPECT_EQ(status_line(s), "connected to broker.example.com:1883 via EC200U, RSSI -65 dBm, spool 3");
}

TEST(StatusLine, WithoutAModuleSaysWhyRatherThanStopped) {
  ms::ModuleInfo none;
  StatusSnapshot s;
  s.state = ms::State::kStopped;
  s.info = &none;
  s.no_module_reason = "no Quectel or Fibocom AT port found (is the module plugged in?)";
  EXPECT_EQ(
      status_line(s),
      "waiting for the module: no Quectel or Fibocom AT port found (is the module plugged in?); spool 0");
}

TEST(StatusLine, OnTheWayUpNamesTheState) {
  ms::ModuleInfo info;
  info.model = "EC200U";
  StatusSnapshot s;
  s.state = ms::State::kRegistering;
  s.info = &info;
  EXPECT_EQ(status_line(s), "registering (EC200U), spool 0");
}

// ---- the status document is valid UTF-8 and valid JSON, whatever the module says ----------------

// Whether `text` is well-formed UTF-8, checked by decoding and then ruling out what Unicode does
// not allow (written apart from the daemon's table-driven check, so one mistake is not in both).
bool valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    std::uint32_t code = 0;
    std::uint32_t smallest = 0;
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2, code = lead & 0x1Fu, smallest = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, code = lead & 0x0Fu, smallest = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, code = lead & 0x07u, smallest = 0x10000;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3Fu);
    }
    if (code < smallest || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += length;
  }
  return true;
}

// RFC 8259, strictly, as a validator: the whole text must be one value.
class JsonValidator {
 public:
  static bool valid(std::string_view text) {
    JsonValidator v(text);
    const bool ok = v.value();
    v.space();
    return ok && v.at_ == text.size();
  }

 private:
  explicit JsonValidator(std::string_view text) : text_(text) {}
  bool more() const { return at_ < text_.size(); }
  char peek() const { return text_[at_]; }
  void space() {
    while (more() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r'))
      ++at_;
  }
  bool eat(char c) {
    space();
    if (!more() || peek() != c) return false;
    ++at_;
    return true;
  }
  bool literal(std::string_view word) {
    if (text_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }
  bool value() {
    space();
    if (!more()) return false;
    switch (peek()) {
      case '{':
        return object();
      case '[':
        return array();
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }
  bool object() {
    ++at_;
    if (eat('}')) return true;
    do {
      space();
      if (!string() || !eat(':') || !value()) return false;
    } while (eat(','));
    return eat('}');
  }
  bool array() {
    ++at_;
    if (eat(']')) return true;
    do {
      if (!value()) return false;
    } while (eat(','));
    return eat(']');
  }
  bool digits() {
    const std::size_t from = at_;
    while (more() && peek() >= '0' && peek() <= '9')
      ++at_;
    return at_ > from;
  }
  bool number() {
    if (more() && peek() == '-') ++at_;
    if (!digits()) return false;
    if (more() && peek() == '.' && (++at_, !digits())) return false;
    if (more() && (peek() == 'e' || peek() == 'E')) {
      ++at_;
      if (more() && (peek() == '+' || peek() == '-')) ++at_;
      if (!digits()) return false;
    }
    return true;
  }
  bool string() {
    if (!more() || peek() != '"') return false;
    ++at_;
    while (more()) {
      const auto c = static_cast<unsigned char>(text_[at_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;  // must be escaped
      if (c != '\\') continue;
      if (!more()) return false;
      const char e = text_[at_++];
      if (e == 'u') {
        for (int k = 0; k < 4; ++k) {
          if (!more() || !std::isxdigit(static_cast<unsigned char>(text_[at_++]))) return false;
        }
      } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
        return false;
      }
    }
    return false;
  }

  std::string_view text_;
  std::size_t at_ = 0;
};

// What a broken or hostile module might report in each of the strings the document carries.
struct HostileCase {
  const char* name;
  std::string bytes;
  std::string expected;  // how it must appear between the quotes in the JSON
};

const HostileCase kHostile[] = {
    {"Latin1", "Telef\xF3nica", "Telef\\ufffdnica"},
    {"ValidTwoThreeAndFourByteCharactersAreKept",
     "Telef\xC3\xB3nica \xE4\xB8\xAD\xE5\x9B\xBD \xF0\x9F\x93\xB6",
     "Telef\xC3\xB3nica \xE4\xB8\xAD\xE5\x9B\xBD \xF0\x9F\x93\xB6"},
    {"LoneContinuationBytes",
     "a\x80\xBF"
     "b",
     "a\\ufffd\\ufffdb"},
    {"OverlongNul",
     "a\xC0\x80"
     "b",
     "a\\ufffd\\ufffdb"},
    {"OverlongSlash", "\xE0\x80\xAF", "\\ufffd\\ufffd\\ufffd"},
    {"OverlongFourBytes", "\xF0\x80\x80\xAF", "\\ufffd\\ufffd\\ufffd\\ufffd"},
    {"SurrogateEncodedAsUtf8", "\xED\xA0\x80\xED\xB0\x80", "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"},
    {"PastU10FFFF", "\xF4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd"},
    {"CutShortAtTheEnd", "EC200U\xE2\x82", "EC200U\\ufffd\\ufffd"},
    {"CutShortBeforeAscii", "\xF0\x9F\x93\"x", "\\ufffd\\ufffd\\ufffd\\\"x"},
    {"NeverValidBytes", "\xC0\xC1\xF5\xFF\xFE", "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"},
    {"ControlCharacters", "a\0b\x01\x1f\t\r\n\x7f"s, "a\\u0000b\\u0001\\u001f\\t\\r\\n\\u007f"},
    {"TerminalEscapeSequences",
     "\x1b[2J\x1b]0;owned\x07\xC2\x9B"
     "31m",
     "\\u001b[2J\\u001b]0;owned\\u0007\\u009b31m"},
    {"QuotesAndBackslashes", "\",\"imei\":\"1\\", "\\\",\\\"imei\\\":\\\"1\\\\"},
};

void PrintTo(const HostileCase& c, std::ostream* os) {
  *os << c.name;
}

class StatusJsonFromAHostileModule : public ::testing::TestWithParam<HostileCase> {};

TEST_P(StatusJsonFromAHostileModule, IsValidUtf8AndValidJsonAndKeepsWhatIsValid) {
  const HostileCase& c = GetParam();
  ms::ModuleInfo info;
  info.model = c.bytes;
  info.revision = c.bytes;
  info.imei = c.bytes;
  info.operator_name = c.bytes;
  info.access_technology = c.bytes;
  StatusSnapshot s;
  s.state = ms::State::kReady;
  s.info = &info;
  s.upstream = c.bytes;  // from the configuration, but the same writer
  const std::string json = status_json(s);
  EXPECT_TRUE(valid_utf8(json)) << json;
  EXPECT_TRUE(JsonValidator::valid(json)) << json;
  for (const char* key : {"model", "firmware", "imei", "operator", "access_technology", "upstream"}) {
    const std::string member = "\""s + key + "\":\"" + c.expected + "\"";
    EXPECT_NE(json.find(member), std::string::npos) << "no " << member << " in " << json;
  }
}

INSTANTIATE_TEST_SUITE_P(Status, StatusJsonFromAHostileModule, ::testing::ValuesIn(kHostile),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(StatusJson, EveryByteStringGivesValidUtf8AndValidJson) {
  // Every one- and two-byte string, and every lead byte before each of a few continuations.
  ms::ModuleInfo info;
  StatusSnapshot s;
  s.info = &info;
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      info.model = std::string{static_cast<char>(a), static_cast<char>(b)};
      info.operator_name = std::string{static_cast<char>(a), static_cast<char>(b), '\x80', '\xBF'};
      const std::string json = status_json(s);
      ASSERT_TRUE(valid_utf8(json)) << a << " " << b << ": " << json;
      ASSERT_TRUE(JsonValidator::valid(json)) << a << " " << b << ": " << json;
    }
  }
}

// ---- the status document names the family and the last close in any family's words -------------

TEST(StatusJson, NamesTheFamilyAndTheLastCloseWithItsMeaning) {
  ms::ModuleInfo info;
  info.model = "EC200S";
  info.family = "Quectel EC200x/EC600x/EG912Y";
  StatusSnapshot s;
  s.state = ms::State::kReady;
  s.info = &info;
  std::string json = status_json(s);
  EXPECT_NE(json.find("\"family\":\"Quectel EC200x/EC600x/EG912Y\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"last_close\":null"), std::string::npos) << json;  // none since start
  EXPECT_EQ(json.find("qmtstat"), std::string::npos) << json;              // no family's word in the schema

  info.last_close = ms::ModuleInfo::Close{8, "the client closed the connection; reopen"};
  json = status_json(s);
  EXPECT_NE(json.find("\"last_close\":{\"code\":8,\"meaning\":\"the client closed the connection; reopen\"}"),
            std::string::npos)
      << json;
  EXPECT_TRUE(JsonValidator::valid(json)) << json;
}

TEST(StatusJson, ReportsTheClockSourceAndTheLastTlsError) {
  ms::ModuleInfo info;
  StatusSnapshot s;
  s.state = ms::State::kSecuring;
  s.info = &info;
  EXPECT_NE(status_json(s).find("\"tls\":null"), std::string::npos);  // TLS off

  info.tls.emplace();
  info.tls->clock_source = "ntp";
  info.tls->module_time = std::chrono::sys_days{std::chrono::year{2026} / 12 / 2};
  info.tls->files_uploaded = 3;
  info.tls->last_error = "+QMTOPEN: 0,-1: the TLS connection to \"x\" failed";
  const std::string json = status_json(s);
  EXPECT_NE(
      json.find(
          "\"tls\":{\"clock_source\":\"ntp\",\"module_clock\":\"2026-12-02 00:00:00 UTC\","
          "\"files_uploaded\":3,\"last_error\":\"+QMTOPEN: 0,-1: the TLS connection to \\\"x\\\" failed\"}"),
      std::string::npos)
      << json;
  EXPECT_TRUE(JsonValidator::valid(json)) << json;
  // What `systemctl status` shows a technician: the state and why TLS fails.
  EXPECT_NE(status_line(s).find("securing (the module), spool 0; TLS: +QMTOPEN: 0,-1"), std::string::npos)
      << status_line(s);
}

}  // namespace
}  // namespace cellmqttd
