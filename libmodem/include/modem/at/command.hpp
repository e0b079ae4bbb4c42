// One AT command as the channel sends it: its text, which response lines belong to it, how long
// to wait, an optional payload for after the "> " prompt, and, for two-phase operations such as
// AT+QMTOPEN (OK now, +QMTOPEN: 0,0 up to 120 s later), the URC that really completes it.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modem/at/result.hpp"
#include "modem/clock.hpp"

namespace modem::at {

struct Completion {
  std::string prefix;  // "+QMTOPEN:"
  // Whether a line with that prefix is this command's answer ("+QMTOPEN: 0," for client 0,
  // "+QMTPUBEX: 0,17," for message 17); empty = any line with the prefix.
  std::function<bool(std::string_view line)> matches;
  Duration timeout = std::chrono::seconds(15);  // counted from the OK
};

// What the module sends when it is ready for a command's payload.
enum class Prompt {
  kAngle,    // "> " without a line ending (AT+QMTPUBEX, AT+QMTPUB)
  kConnect,  // a "CONNECT" line (AT+QFUPL, Quectel's file upload)
};

struct Command {
  std::string text;  // without the terminating CR, e.g. AT+QMTOPEN=0,"broker",1883
  // Intermediate lines that belong to the answer, by prefix ("+CSQ:"). They are claimed before
  // URC handlers see them, so "+CREG: 0,1" answers AT+CREG? even when +CREG URCs are enabled.
  std::vector<std::string> response_prefixes;
  // ATI, AT+CGMR, AT+CGSN, AT+CIMI answer with unprefixed lines: accept any line no URC claims.
  bool plain_lines = false;
  Duration timeout = std::chrono::seconds(2);  // to the final result (and to the prompt)
  std::optional<std::string> payload;          // written, byte-exact, after the prompt
  Prompt prompt = Prompt::kAngle;
  bool secret_payload = false;  // the payload is a private key: traced by its size only
  std::optional<Completion> completion;
  // What logs and the AT trace show instead of `text` when the text holds a secret (AT+QMTCONN's
  // password, AT+QICSGP's). Empty: the text is not secret and is logged as is.
  std::string log_text;

  const std::string& loggable() const { return log_text.empty() ? text : log_text; }
  bool sensitive() const { return !log_text.empty(); }
};

using Callback = std::function<void(const Result&)>;

}  // namespace modem::at
