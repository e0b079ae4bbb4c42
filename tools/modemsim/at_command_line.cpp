#include "at_command_line.hpp"

#include <cctype>
#include <charconv>

namespace modemsim {

std::optional<long> AtCommandLine::integer(std::size_t i) const {
  if (i >= args.size() || args[i].quoted || args[i].text.empty()) return std::nullopt;
  long value = 0;
  const std::string& t = args[i].text;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc{} || ptr != t.data() + t.size()) return std::nullopt;
  return value;
}

std::optional<std::string> AtCommandLine::string(std::size_t i) const {
  if (i >= args.size()) return std::nullopt;
  return args[i].text;
}

namespace {

// The command name ends at '=', '?' or, for basic commands such as ATE0 and ATI, after the letter
// and its digits.
std::size_t name_length(std::string_view body) {
  if (body.empty()) return 0;
  if (body[0] == '+' || body[0] == '$' || body[0] == '&') {
    std::size_t n = 1;
    while (n < body.size() && body[n] != '=' && body[n] != '?')
      ++n;
    return n;
  }
  std::size_t n = 1;  // a basic command: one letter, then its numeric argument
  while (n < body.size() && std::isdigit(static_cast<unsigned char>(body[n])))
    ++n;
  return n;
}

}  // namespace

std::optional<AtCommandLine> parse_at_command_line(std::string_view line) {
  if (line.size() < 2 || std::toupper(static_cast<unsigned char>(line[0])) != 'A' ||
      std::toupper(static_cast<unsigned char>(line[1])) != 'T') {
    return std::nullopt;
  }
  std::string_view body = line.substr(2);
  AtCommandLine command;
  const std::size_t n = name_length(body);
  for (char c : body.substr(0, n))
    command.name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  body.remove_prefix(n);
  if (body.empty()) return command;
  if (body == "?") {
    command.form = AtCommandLine::Form::kRead;
    return command;
  }
  if (body == "=?") {
    command.form = AtCommandLine::Form::kTest;
    return command;
  }
  if (body[0] != '=') {
    // ATI0-style trailing text, or garbage: keep it as a single argument.
    command.args.push_back(AtArg{std::string(body), false});
    return command;
  }
  command.form = AtCommandLine::Form::kWrite;
  body.remove_prefix(1);
  AtArg current;
  bool in_quotes = false;
  for (char c : body) {
    if (in_quotes) {
      if (c == '"') {
        in_quotes = false;
      } else {
        current.text += c;
      }
    } else if (c == '"') {
      in_quotes = true;
      current.quoted = true;
    } else if (c == ',') {
      command.args.push_back(std::move(current));
      current = {};
    } else if (c != ' ') {
      current.text += c;
    }
  }
  if (in_quotes) return std::nullopt;
  command.args.push_back(std::move(current));
  return command;
}

}  // namespace modemsim
