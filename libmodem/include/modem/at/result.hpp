// How an AT command ended, and the V.250 / 3GPP TS 27.007 final result codes that end one.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace modem::at {

enum class ResultCode {
  kOk,        // OK (and, for a two-phase command, its completing URC arrived)
  kError,     // ERROR, or NO CARRIER / BUSY / NO ANSWER / NO DIALTONE
  kCmeError,  // +CME ERROR: <n>   (equipment error, 27.007 §9.2)
  kCmsError,  // +CMS ERROR: <n>   (message service error, 27.005 §3.2.5)
  kTimeout,   // no final result, or no completing URC, before the deadline
  kAborted,   // never finished: the channel was reset or the device went away
};

const char* to_string(ResultCode code);

struct Result {
  ResultCode code = ResultCode::kAborted;
  // The numeric <err> of +CME/+CMS ERROR; -1 when the module reports it as text (AT+CMEE=2).
  int error_code = 0;
  std::string final_line;                 // "OK", "ERROR", "+CME ERROR: 50", …; empty on timeout
  std::vector<std::string> lines;         // intermediate response lines, in order
  std::optional<std::string> completion;  // the URC that completed a two-phase command
  // True once the module answered OK: a timeout with `accepted` means the module took the command
  // but its completing URC never came (network slow), not that the AT channel is stuck.
  bool accepted = false;

  bool ok() const { return code == ResultCode::kOk; }
};

// A final result line, classified; nullopt when the line is not a final result code.
struct FinalResult {
  ResultCode code;
  int error_code = 0;
};
std::optional<FinalResult> classify_final(std::string_view line);

// "+CME ERROR: 50" and friends for a log line a person can read.
std::string describe(const Result& result);

}  // namespace modem::at
