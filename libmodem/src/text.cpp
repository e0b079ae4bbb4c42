#include "modem/text.hpp"

#include <cstddef>

namespace modem {

bool is_valid_utf8(std::string_view s) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto in = [](unsigned char b, unsigned lo, unsigned hi) { return b >= lo && b <= hi; };
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char b0 = byte(i);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned lo = 0x80;
    unsigned hi = 0xBF;  // the allowed range of the second byte
    if (in(b0, 0xC2, 0xDF)) {
      len = 2;
    } else if (b0 == 0xE0) {
      len = 3;
      lo = 0xA0;
    } else if (in(b0, 0xE1, 0xEC) || in(b0, 0xEE, 0xEF)) {
      len = 3;
    } else if (b0 == 0xED) {
      len = 3;
      hi = 0x9F;
    } else if (b0 == 0xF0) {
      len = 4;
      lo = 0x90;
    } else if (in(b0, 0xF1, 0xF3)) {
      len = 4;
    } else if (b0 == 0xF4) {
      len = 4;
      hi = 0x8F;
    } else {
      return false;  // 80-C1: continuation or overlong lead; F5-FF: beyond U+10FFFF
    }
    if (s.size() - i < len) return false;  // truncated
    if (!in(byte(i + 1), lo, hi)) return false;
    for (std::size_t k = 2; k < len; ++k) {
      if (!in(byte(i + k), 0x80, 0xBF)) return false;
    }
    i += len;
  }
  return true;
}

// MQTT 3.1.1 §1.5.3 says strings SHOULD NOT contain them, and a broker may close the connection
// over one.
bool has_c1_control(std::string_view s) {
  for (std::size_t i = 0; i + 1 < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) == 0xC2 && static_cast<unsigned char>(s[i + 1]) <= 0x9F &&
        static_cast<unsigned char>(s[i + 1]) >= 0x80) {
      return true;
    }
  }
  return false;
}

bool has_control_character(std::string_view s) {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) return true;
  }
  return has_c1_control(s);
}

}  // namespace modem
