#include "modem/text.hpp"

namespace modem {

namespace utf8 {

std::size_t sequence_length(std::string_view text) {
  if (text.empty()) return 0;
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  // Table 3-7: the lead byte gives the length and the range the second byte must be in; the
  // narrower ranges after E0, ED, F0 and F4 are what rule out overlong forms, surrogates and
  // values past U+10FFFF. C0, C1 and F5-FF never appear; 80-BF never lead.
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // below: overlong
    if (lead == 0xED) high = 0x9F;  // above: U+D800-U+DFFF, surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // below: overlong
    if (lead == 0xF4) high = 0x8F;  // above: past U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  if (byte(1) < low || byte(1) > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return length;
}

char32_t decode(std::string_view sequence) {
  const auto byte = [&](std::size_t i) {
    return static_cast<char32_t>(static_cast<unsigned char>(sequence[i]));
  };
  switch (sequence.size()) {
    case 1:
      return byte(0);
    case 2:
      return ((byte(0) & 0x1F) << 6) | (byte(1) & 0x3F);
    case 3:
      return ((byte(0) & 0x0F) << 12) | ((byte(1) & 0x3F) << 6) | (byte(2) & 0x3F);
    case 4:
      return ((byte(0) & 0x07) << 18) | ((byte(1) & 0x3F) << 12) | ((byte(2) & 0x3F) << 6) | (byte(3) & 0x3F);
    default:
      return 0xFFFD;
  }
}

}  // namespace utf8

bool is_valid_utf8(std::string_view s) {
  while (!s.empty()) {
    const std::size_t length = utf8::sequence_length(s);
    if (length == 0) return false;
    s.remove_prefix(length);
  }
  return true;
}

bool has_control_character(std::string_view s) {
  while (!s.empty()) {
    const std::size_t length = utf8::sequence_length(s);
    // A byte that starts no UTF-8 sequence is >= 0x80 and no control character of its own.
    if (length > 0 && utf8::is_control(utf8::decode(s.substr(0, length)))) return true;
    s.remove_prefix(length > 0 ? length : 1);
  }
  return false;
}

}  // namespace modem
