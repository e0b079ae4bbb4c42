// UTF-8, as the daemon's outputs need it. What the module reports (model, firmware, operator,
// IMEI, ...) and what comes from the network are bytes, not text: they may be Latin-1, cut in the
// middle of a character, or made to look like text to something that reads them. The status JSON
// and systemd's STATUS= must be valid UTF-8 whatever those bytes are (RFC 8259 §8.1; systemd drops
// a STATUS= that is not), so the writers of both take the text apart with these.
#pragma once

#include <cstddef>
#include <string_view>

namespace cellmqttd::utf8 {

// The length (1 to 4) of the well-formed UTF-8 sequence `text` starts with, or 0 when it starts
// with none: a lone continuation byte, an overlong form (C0 80 for NUL), a surrogate encoded as
// if it were a character (ED A0 80), a value past U+10FFFF, a sequence cut short, or 0xF5-0xFF.
// Unicode 15, Table 3-7 (well-formed UTF-8 byte sequences). 0 for an empty `text`.
std::size_t sequence_length(std::string_view text);

// The code point of a sequence sequence_length() accepted, passed whole.
char32_t decode(std::string_view sequence);

// C0 controls, DEL and C1 controls (U+0080-U+009F): a terminal acts on them (ESC, and CSI as
// U+009B), so they are escaped wherever text is shown.
constexpr bool is_control(char32_t code_point) {
  return code_point < 0x20 || (code_point >= 0x7F && code_point <= 0x9F);
}

}  // namespace cellmqttd::utf8
