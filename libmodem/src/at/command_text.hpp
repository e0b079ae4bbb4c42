// Small helpers the dialects (and the 3GPP basics) build their commands with. Internal to libmodem.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include "modem/at/command.hpp"

namespace modem::at {

inline Command make_command(std::string text, Duration timeout = std::chrono::seconds(2)) {
  Command c;
  c.text = std::move(text);
  c.timeout = timeout;
  return c;
}

// A command whose answer has intermediate lines starting with `prefix` ("+CSQ:").
inline Command with_prefix(std::string text, std::string prefix, Duration timeout = std::chrono::seconds(2)) {
  Command c = make_command(std::move(text), timeout);
  c.response_prefixes.push_back(std::move(prefix));
  return c;
}

// A command whose answer is bare lines (ATI, AT+CGSN).
inline Command with_plain_lines(std::string text, Duration timeout = std::chrono::seconds(2)) {
  Command c = make_command(std::move(text), timeout);
  c.plain_lines = true;
  return c;
}

// "value": the caller has checked `s` may go inside quotes (no quote, CR, LF or NUL).
inline std::string quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  out += s;
  out += '"';
  return out;
}

}  // namespace modem::at
