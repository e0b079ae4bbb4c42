// Small lexing helpers every line parser shares (the 3GPP basics, the dialects): fields split at
// the commas outside quotes, blanks trimmed (some firmware writes ", ": field-notes.md 2.7),
// integers read strictly. Internal to libmodem.
#pragma once

#include <charconv>
#include <cstddef>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

namespace modem::lexing {

inline bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back()))
    s.remove_suffix(1);
  return s;
}

// The arguments after `prefix` ("+QMTSTAT:"), split at the commas that are outside double quotes
// and trimmed of blanks. nullopt when the line does not start with `prefix` or a quote is left open.
// Only for lines whose quoted fields cannot hold a quote (not +QMTRECV: see quectel_recv.cpp).
inline std::optional<std::vector<std::string_view>> arguments(std::string_view line,
                                                              std::string_view prefix) {
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
inline std::optional<int> to_int(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int value = 0;
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

inline std::optional<int> to_int_in(std::string_view s, int lo, int hi) {
  const auto v = to_int(s);
  if (!v || *v < lo || *v > hi) return std::nullopt;
  return v;
}

// "text" -> text; nullopt unless the field is exactly one quoted string.
inline std::optional<std::string_view> unquote(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::nullopt;
  s = s.substr(1, s.size() - 2);
  if (s.find('"') != std::string_view::npos) return std::nullopt;
  return s;
}

// A field that firmware writes either quoted or bare (+QNWINFO's operator code: "46001" or 46001).
inline std::string_view quoted_or_bare(std::string_view s) {
  if (const auto inner = unquote(s)) return *inner;
  return s;
}

// Between `min_count` and `max_count` integers after `prefix`, nothing else.
inline std::optional<std::vector<int>> integers(std::string_view line, std::string_view prefix,
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
  return out;
}

inline std::size_t skip_blanks(std::string_view s, std::size_t i) {
  while (i < s.size() && is_blank(s[i]))
    ++i;
  return i;
}

inline bool is_digit(char c) {
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

}  // namespace modem::lexing
