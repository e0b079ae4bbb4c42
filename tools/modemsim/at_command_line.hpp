// One AT command line as the module receives it, split the way Quectel firmware reads it:
// AT+QMTPUBEX=0,1,1,0,"topic",5  ->  name "+QMTPUBEX", form kWrite, args [0,1,1,0,"topic",5].
// Quoted arguments end at the next '"' (the modules know no escaping: field-notes.md 2.1, 2.2).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace modemsim {

struct AtArg {
  std::string text;  // without the quotes
  bool quoted = false;
};

struct AtCommandLine {
  enum class Form { kExec, kTest, kRead, kWrite };
  std::string name;  // upper case, without "AT": "+QMTCFG", "E0", "I", "" for a bare "AT"
  Form form = Form::kExec;
  std::vector<AtArg> args;

  std::size_t count() const { return args.size(); }
  // The argument at `i` as an integer, or nullopt if it is missing, quoted or not a number.
  std::optional<long> integer(std::size_t i) const;
  // The argument at `i` as a string, or nullopt if it is missing.
  std::optional<std::string> string(std::size_t i) const;
  bool quoted(std::size_t i) const { return i < args.size() && args[i].quoted; }
};

// Parses the text after the host's line end was stripped; nullopt when it does not start with AT
// (case-insensitive) or a quote is left open.
std::optional<AtCommandLine> parse_at_command_line(std::string_view line);

}  // namespace modemsim
