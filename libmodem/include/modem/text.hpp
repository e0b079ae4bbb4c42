// Checks on text from anywhere (a module, a broker, a configuration file, a local app) before it
// is trusted or shown: well-formed UTF-8, and no control characters, which can end an AT command
// line, act on a terminal (ESC, CSI), forge a line in a log, or make a broker drop the connection
// (MQTT 3.1.1 §1.5.3). What the module reports and what comes from the network are bytes, not
// text: Latin-1, cut in the middle of a character, or made to look like text on purpose.
#pragma once

#include <cstddef>
#include <string_view>

namespace modem {

namespace utf8 {

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

}  // namespace utf8

// The whole of `s` is well-formed UTF-8.
bool is_valid_utf8(std::string_view s);

// `s` holds a C0 control (NUL to US), DEL, or (as well-formed UTF-8) a C1 control.
bool has_control_character(std::string_view s);

}  // namespace modem
