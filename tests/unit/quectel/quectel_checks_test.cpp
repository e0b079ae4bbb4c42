// What may go inside a quoted AT argument (DESIGN.md, security model), and what the module's codes
// mean in a log line.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "modem/quectel/quectel_at.hpp"

namespace modem::quectel {
namespace {

using namespace std::string_literals;

struct CheckCase {
  std::string value;
  std::optional<std::string> why;  // nullopt: accepted
};

std::string printable(const std::string& s) {
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7F) {
      out += ch;
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

void expect_checks(const std::vector<CheckCase>& cases,
                   const std::function<std::optional<std::string>(const std::string&)>& check) {
  for (const CheckCase& c : cases) {
    EXPECT_EQ(check(c.value), c.why) << "value: \"" << printable(c.value) << "\"";
  }
}

TEST(QuectelChecks, QuotedArgumentRefusesWhatEndsOrEditsTheCommandLine) {
  // The module knows no escaping (field-notes.md 2.1, 2.2): each of these would end the quoted
  // argument or the command line, or edit it (backspace is V.250's S5).
  expect_checks(
      {
          {"home/sensors/temperature", std::nullopt},          // seed 000
          {"qf4dcfae.eu-central-1.emqx.cloud", std::nullopt},  // field-notes.md 1.1
          {"python-mqtt-176", std::nullopt},
          {"a\\b", std::nullopt},  // a backslash is just a byte to the module
          {"a,b", std::nullopt},   // commas are safe inside quotes
          {"", "is empty"},
          {"a\"b", "contains a double quote"},
          {"\"", "contains a double quote"},
          {"x\",1\r\nAT+CFUN=0", "contains a double quote"},  // injection: the quote comes first
          {"a\rb", "contains a carriage return"},
          {"a\nb", "contains a line feed"},
          {"a\0b"s, "contains a NUL byte"},
          {"\0"s, "contains a NUL byte"},
          {"a\x1a", "contains a control character"},  // Ctrl-Z ends text input on some firmware
          {"a\x1b", "contains a control character"},  // ESC cancels it
          {"a\bb", "contains a control character"},   // S5 backspace
          {"a\tb", "contains a control character"},
          {"a\x7f", "contains a control character"},
          {"a\xc2\x85", "contains a control character"},  // U+0085 NEL, a C1 control
          {"a\xc2\x9f", "contains a control character"},
      },
      [](const std::string& v) { return check_quoted_argument(v, kMaxTopic); });
}

TEST(QuectelChecks, QuotedArgumentWantsWellFormedUtf8) {
  const std::optional<std::string> bad = "is not valid UTF-8";
  expect_checks(
      {
          // Accepted, including the edges of every range in Unicode Table 3-7.
          {"\xc3\xa9t\xc3\xa9", std::nullopt},                      // été
          {"\xe6\xb8\xa9\xe5\xba\xa6/\xe4\xbc\xa0", std::nullopt},  // 温度/传
          {"\xf0\x9f\x98\x80", std::nullopt},                       // U+1F600
          {"\xc2\xa0", std::nullopt},                               // U+00A0, first after C1
          {"\xdf\xbf", std::nullopt},                               // U+07FF
          {"\xe0\xa0\x80", std::nullopt},                           // U+0800
          {"\xed\x9f\xbf", std::nullopt},                           // U+D7FF
          {"\xee\x80\x80", std::nullopt},                           // U+E000
          {"\xef\xbf\xbd", std::nullopt},                           // U+FFFD
          {"\xf0\x90\x80\x80", std::nullopt},                       // U+10000
          {"\xf4\x8f\xbf\xbf", std::nullopt},                       // U+10FFFF
                                                                    // Overlong forms.
          {"\xc0\xaf", bad},                                        // '/' in two bytes
          {"\xc1\xbf", bad},                                        // U+007F in two bytes
          {"\xe0\x80\xaf", bad},                                    // '/' in three bytes
          {"\xe0\x9f\xbf", bad},                                    // U+07FF in three bytes
          {"\xf0\x80\x80\xaf", bad},                                // '/' in four bytes
          {"\xf0\x8f\xbf\xbf", bad},                                // U+FFFF in four bytes
                                                                    // Surrogates.
          {"\xed\xa0\x80", bad},                                    // U+D800
          {"\xed\xbf\xbf", bad},                                    // U+DFFF
          {"\xed\xa0\xbd\xed\xb8\x80", bad},                        // a CESU-8 pair
                                                                    // Beyond U+10FFFF.
          {"\xf4\x90\x80\x80", bad},                                // U+110000
          {"\xf5\x80\x80\x80", bad},
          {"\xf8\x88\x80\x80\x80", bad},
          {"\xff", bad},
          {"\xfe", bad},
          // Stray continuation bytes and truncated sequences.
          {"\x80", bad},
          {"a\xbf", bad},
          {"\xc3", bad},
          {"abc\xe4\xb8", bad},
          {"\xe4\xb8x", bad},
          {"\xf0\x9f\x98", bad},
          {"\xc3\x28", bad},
          {"\xe2\x28\xa1", bad},
      },
      [](const std::string& v) { return check_quoted_argument(v, kMaxTopic); });
}

TEST(QuectelChecks, QuotedArgumentLengthLimitIsInBytes) {
  const std::string e_acute = "\xc3\xa9";
  std::string multibyte_256;
  for (int i = 0; i < 128; ++i)
    multibyte_256 += e_acute;
  expect_checks(
      {
          {"a", std::nullopt},
          {std::string(256, 'a'), std::nullopt},
          {std::string(257, 'a'), "is longer than 256 bytes"},
          {multibyte_256, std::nullopt},
          {std::string(255, 'a') + e_acute, "is longer than 256 bytes"},  // 256 characters, 257 bytes
      },
      [](const std::string& v) { return check_quoted_argument(v, kMaxTopic); });
  // AT+QMTOPEN: "<host_name> ... The maximum size is 100 bytes."
  EXPECT_EQ(check_quoted_argument(std::string(100, 'h'), kMaxHostName), std::nullopt);
  EXPECT_EQ(check_quoted_argument(std::string(101, 'h'), kMaxHostName), "is longer than 100 bytes");
  EXPECT_EQ(check_quoted_argument(std::string(128, 'p'), kMaxPassword), std::nullopt);
  EXPECT_EQ(check_quoted_argument(std::string(129, 'p'), kMaxPassword), "is longer than 128 bytes");
}

TEST(QuectelChecks, PublishTopicHasNoWildcards) {
  // MQTT 3.1.1 §4.7.1: wildcards only in subscriptions.
  const std::optional<std::string> wildcard = "contains a wildcard ('+' or '#')";
  expect_checks(
      {
          {"home/sensors/data", std::nullopt},
          {"$aws/things/M26_0206/shadow/update", std::nullopt},  // AN chapter 5
          {"/", std::nullopt},
          {std::string(256, 't'), std::nullopt},
          {std::string(257, 't'), "is longer than 256 bytes"},
          {"a/+/b", wildcard},
          {"a/#", wildcard},
          {"+", wildcard},
          {"#", wildcard},
          {"c++", wildcard},
          {"issue#5", wildcard},
          {"", "is empty"},
          {"a\"b", "contains a double quote"},
          {"a\nb", "contains a line feed"},
          {"a\xff", "is not valid UTF-8"},
      },
      check_publish_topic);
}

TEST(QuectelChecks, TopicFilterWildcardsOnlyAsWholeLevels) {
  // MQTT 3.1.1 §4.7.1.2 ('#': a whole level, the last) and §4.7.1.3 ('+': a whole level).
  const std::optional<std::string> hash = "has a '#' that is not the whole last level";
  const std::optional<std::string> plus = "has a '+' that is not a whole level";
  expect_checks(
      {
          {"qf4dcfae.eu-central-1.emqx.cloud", std::nullopt},  // field-notes.md 1.1
          {"#", std::nullopt},
          {"+", std::nullopt},
          {"a/#", std::nullopt},
          {"a/+/b", std::nullopt},
          {"+/+", std::nullopt},
          {"+/#", std::nullopt},
          {"/+", std::nullopt},
          {"a//b", std::nullopt},
          {"/", std::nullopt},
          {"$share/group/sport/#", std::nullopt},
          {"sport/tennis/+", std::nullopt},
          {"a/#/b", hash},
          {"#/a", hash},
          {"a#", hash},
          {"a/b#", hash},
          {"##", hash},
          {"a+", plus},
          {"a/+b", plus},
          {"++", plus},
          {"+a/b", plus},
          {"", "is empty"},
          {"a/\"#", "contains a double quote"},
          {"a/\r#", "contains a carriage return"},
          {std::string(257, 'f'), "is longer than 256 bytes"},
      },
      check_topic_filter);
}

TEST(QuectelCodes, QmtstatFollowsTable3OfTheApplicationNote) {
  EXPECT_STREQ(describe_qmtstat(1),
               "connection closed or reset by peer; reopen the MQTT network (AT+QMTOPEN)");
  EXPECT_NE(std::string(describe_qmtstat(2)).find("deactivate and reactivate the PDP context"),
            std::string::npos);
  for (const int code : {3, 4}) {
    const std::string text = describe_qmtstat(code);
    EXPECT_NE(text.find("user name, password"), std::string::npos) << code;
    EXPECT_NE(text.find("client id"), std::string::npos) << code;
    EXPECT_NE(text.find("reopen"), std::string::npos) << code;
  }
  EXPECT_NE(std::string(describe_qmtstat(5)).find("normal"), std::string::npos);
  EXPECT_NE(std::string(describe_qmtstat(6)).find("reopen"), std::string::npos);
  EXPECT_NE(std::string(describe_qmtstat(7)).find("server"), std::string::npos);
  // Code 8 is reserved in seeds/001 (its table ends at 7) and seen in the field (field-notes.md 2.3);
  // seeds/002's meaning is its variants' (quectel_variants_test.cpp).
  const std::string eight = describe_qmtstat(8);
  EXPECT_NE(eight.find("reserved"), std::string::npos);
  EXPECT_NE(eight.find("client-initiated disconnect"), std::string::npos);
  EXPECT_NE(eight.find("reopen"), std::string::npos);
  for (const int code : {0, 9, 255, -1, 1 << 30}) {
    EXPECT_NE(std::string(describe_qmtstat(code)).find("not documented"), std::string::npos) << code;
  }
}

TEST(QuectelCodes, QmtopenSaysWhatToDo) {
  EXPECT_STREQ(describe_qmtopen(-1), "failed to open network");
  EXPECT_STREQ(describe_qmtopen(0), "network opened");
  EXPECT_STREQ(describe_qmtopen(1), "wrong parameter");
  EXPECT_NE(std::string(describe_qmtopen(2)).find("occupied"), std::string::npos);
  EXPECT_NE(std::string(describe_qmtopen(3)).find("reactivate the PDP context"), std::string::npos);
  EXPECT_NE(std::string(describe_qmtopen(4)).find("check DNS and the host name"), std::string::npos);
  // Field guide (seed 000), pitfall 2: +QMTOPEN: 0,5 from an IPv6-only APN against an IPv4 broker.
  const std::string five = describe_qmtopen(5);
  EXPECT_NE(five.find("host and port"), std::string::npos);
  EXPECT_NE(five.find("IPv6-only"), std::string::npos);
  EXPECT_NE(five.find("use an APN with IPv4"), std::string::npos);
  EXPECT_STREQ(describe_qmtopen(6), "result not documented");
  EXPECT_STREQ(describe_qmtopen(-2), "result not documented");
}

TEST(QuectelCodes, ConnackInWords) {
  EXPECT_STREQ(describe_connack(0), "connection accepted");
  EXPECT_STREQ(describe_connack(1), "connection refused: unacceptable protocol version");
  EXPECT_STREQ(describe_connack(2), "connection refused: identifier rejected");
  EXPECT_STREQ(describe_connack(3), "connection refused: server unavailable");
  EXPECT_STREQ(describe_connack(4), "connection refused: bad user name or password");
  EXPECT_STREQ(describe_connack(5), "connection refused: not authorized");
  EXPECT_STREQ(describe_connack(6), "connection refused: return code not defined by MQTT 3.1.1");
}

}  // namespace
}  // namespace modem::quectel
