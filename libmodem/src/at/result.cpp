#include "modem/at/result.hpp"

#include <fmt/format.h>

#include <charconv>

namespace modem::at {

const char* to_string(ResultCode code) {
  switch (code) {
    case ResultCode::kOk:
      return "ok";
    case ResultCode::kError:
      return "error";
    case ResultCode::kCmeError:
      return "cme-error";
    case ResultCode::kCmsError:
      return "cms-error";
    case ResultCode::kTimeout:
      return "timeout";
    case ResultCode::kAborted:
      return "aborted";
  }
  return "unknown";
}

namespace {

// <err> after "+CME ERROR:" is a number with AT+CMEE=1 and text with AT+CMEE=2.
int parse_error_number(std::string_view rest) {
  while (!rest.empty() && rest.front() == ' ')
    rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ')
    rest.remove_suffix(1);
  int value = -1;
  const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  if (ec != std::errc{} || ptr != rest.data() + rest.size() || rest.empty()) return -1;
  return value;
}

}  // namespace

std::optional<FinalResult> classify_final(std::string_view line) {
  if (line == "OK") return FinalResult{ResultCode::kOk};
  if (line == "ERROR") return FinalResult{ResultCode::kError};
  // Call-related finals of V.250 §5.7.1; a module may send them on an AT port at any time after
  // a dial, and they end whatever command is in flight.
  if (line == "NO CARRIER" || line == "BUSY" || line == "NO ANSWER" || line == "NO DIALTONE") {
    return FinalResult{ResultCode::kError};
  }
  constexpr std::string_view kCme = "+CME ERROR:";
  constexpr std::string_view kCms = "+CMS ERROR:";
  if (line.starts_with(kCme))
    return FinalResult{ResultCode::kCmeError, parse_error_number(line.substr(kCme.size()))};
  if (line.starts_with(kCms))
    return FinalResult{ResultCode::kCmsError, parse_error_number(line.substr(kCms.size()))};
  return std::nullopt;
}

std::string describe(const Result& result) {
  switch (result.code) {
    case ResultCode::kOk:
      return "OK";
    case ResultCode::kTimeout:
      return result.accepted ? "accepted, but the completing result never came" : "no answer (timeout)";
    case ResultCode::kAborted:
      return "aborted";
    default:
      return result.final_line.empty() ? std::string(to_string(result.code)) : result.final_line;
  }
}

}  // namespace modem::at
