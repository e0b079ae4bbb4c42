// Checks on text from anywhere (a module, a broker, a configuration file) before it is trusted:
// well-formed UTF-8, and no control characters, which can end an AT command line, forge a line in
// a log or a terminal, or make a broker drop the connection (MQTT 3.1.1 §1.5.3).
#pragma once

#include <string_view>

namespace modem {

// Well-formed UTF-8 as Unicode 15 Table 3-7 defines it: no overlong forms (C0, C1, E0 80-9F,
// F0 80-8F), no surrogates (ED A0-BF), nothing above U+10FFFF (F4 90-BF, F5-FF), no truncated or
// stray continuation bytes.
bool is_valid_utf8(std::string_view s);

// C1 controls U+0080-U+009F, encoded C2 80 - C2 9F.
bool has_c1_control(std::string_view s);

// C0 controls (NUL to US), DEL, or (in valid UTF-8) a C1 control.
bool has_control_character(std::string_view s);

}  // namespace modem
