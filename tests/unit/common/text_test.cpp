// The UTF-8 and control-character checks every layer uses on untrusted text (modem/text.hpp).
#include "modem/text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace modem {
namespace {

using namespace std::string_literals;

TEST(Text, WellFormedUtf8AsUnicodeTable3_7DefinesIt) {
  for (const std::string& ok : {""s, "plain ascii"s, "\xc3\xa9"s, "\xe6\xb8\xa9\xe5\xba\xa6"s,
                                "\xf0\x9f\x98\x80"s, "\xf4\x8f\xbf\xbf"s, "\xed\x9f\xbf"s, "\0"s}) {
    EXPECT_TRUE(is_valid_utf8(ok)) << ok;
  }
  for (const std::string& bad : {
           "\x80"s,              // a lone continuation byte
           "\xc0\x80"s,          // overlong NUL
           "\xc1\xbf"s,          // overlong
           "\xe0\x80\xaf"s,      // overlong '/'
           "\xed\xa0\x80"s,      // a surrogate
           "\xf4\x90\x80\x80"s,  // past U+10FFFF
           "\xf5\x80\x80\x80"s,
           "\xff"s,
           "\xe6\xb8"s,  // cut short
           "a\xc3"s,
       }) {
    EXPECT_FALSE(is_valid_utf8(bad)) << bad;
  }
}

TEST(Text, ControlCharactersC0DelAndC1) {
  for (const std::string& with : {"a\nb"s, "\x1b[31m"s, "\x7f"s, "x\xc2\x9b"s, "\0"s, "\t"s}) {
    EXPECT_TRUE(has_control_character(with)) << with;
  }
  // Bytes that are not UTF-8 are not control characters; an encoded U+00A0 is not one either.
  for (const std::string& without : {"plain"s, "\xc2\xa0"s, "\x9b"s, "\xff\xfe"s, "\xe6\xb8\xa9"s, ""s}) {
    EXPECT_FALSE(has_control_character(without)) << without;
  }
}

}  // namespace
}  // namespace modem
