// The Quectel commands TLS needs (quectel_tls.hpp) and the parsers of their answers.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include "at/command_text.hpp"
#include "at/lexing.hpp"
#include "modem/quectel/quectel_tls.hpp"

namespace modem::quectel {

namespace {

using namespace lexing;
using std::chrono::seconds;

// Quectel's file manual gives AT+QFUPL no response time of its own beyond <timeout>: the command
// waits for its bytes that long. The deadline after CONNECT is the upload's own time at 9600 baud
// (about 1 ms per byte) and a margin, so a slow line is not cut short.
Duration upload_timeout(std::size_t size) {
  return seconds(10) + std::chrono::milliseconds(size);
}
constexpr int kUploadTimeoutS = 100;    // <timeout> of AT+QFUPL, as in seeds/001
constexpr seconds kNtpCompletion{125};  // AT+QNTP: 125 s, determined by the network
constexpr std::string_view kFileListPattern = "UFS:*";

}  // namespace

std::uint16_t upload_checksum(std::string_view data) {
  std::uint16_t sum = 0;
  for (std::size_t i = 0; i < data.size(); i += 2) {
    const auto high = static_cast<std::uint16_t>(static_cast<unsigned char>(data[i]) << 8);
    const auto low = i + 1 < data.size() ? static_cast<unsigned char>(data[i + 1]) : 0u;
    sum ^= static_cast<std::uint16_t>(high | low);
  }
  return sum;
}

at::Command list_files() {
  return at::with_prefix("AT+QFLST=" + at::quoted(kFileListPattern), "+QFLST:");
}

std::optional<StoredFile> parse_qflst(std::string_view line) {
  const auto args = arguments(line, "+QFLST:");
  if (!args || args->size() < 2) return std::nullopt;
  const auto name = unquote((*args)[0]);
  const auto size = to_int((*args)[1]);
  if (!name || !size || *size < 0) return std::nullopt;
  return StoredFile{std::string(*name), static_cast<std::size_t>(*size)};
}

at::Command upload_file(const std::string& name, const std::string& contents, bool secret) {
  at::Command c =
      at::with_prefix(fmt::format("AT+QFUPL={},{},{}", at::quoted(name), contents.size(), kUploadTimeoutS),
                      "+QFUPL:", upload_timeout(contents.size()));
  c.payload = contents;
  c.prompt = at::Prompt::kConnect;
  c.secret_payload = secret;
  return c;
}

std::optional<UploadResult> parse_qfupl(std::string_view line) {
  const auto args = arguments(line, "+QFUPL:");
  if (!args || args->size() != 2) return std::nullopt;
  const auto size = to_int((*args)[0]);
  const std::string_view hex = (*args)[1];
  unsigned value = 0;
  const auto [ptr, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), value, 16);
  if (!size || *size < 0 || hex.empty() || ec != std::errc() || ptr != hex.data() + hex.size() ||
      value > 0xffff)
    return std::nullopt;
  return UploadResult{static_cast<std::size_t>(*size), static_cast<std::uint16_t>(value)};
}

at::Command delete_file(const std::string& name) {
  return at::make_command("AT+QFDEL=" + at::quoted(name));
}

at::Command ssl_set(std::string_view option, int context, const std::string& value) {
  return at::make_command(fmt::format("AT+QSSLCFG={},{},{}", at::quoted(option), context, value));
}

at::Command ssl_query(std::string_view option, int context) {
  return at::with_prefix(fmt::format("AT+QSSLCFG={},{}", at::quoted(option), context), "+QSSLCFG:");
}

at::Command mqtt_ssl(int client, bool enable, int context) {
  // seeds/001 and 002: AT+QMTCFG="SSL",<idx>,<SSL_enable>[,<SSL_ctx_idx>]; the context only with 1.
  if (!enable) return at::make_command(fmt::format("AT+QMTCFG=\"ssl\",{},0", client));
  return at::make_command(fmt::format("AT+QMTCFG=\"ssl\",{},1,{}", client, context));
}

at::Command network_time() {
  return at::with_prefix("AT+QLTS=2", "+QLTS:");
}

std::optional<gpp::SystemTime> parse_qlts(std::string_view line) {
  if (!line.starts_with("+QLTS:")) return std::nullopt;
  // +QLTS: "2026/12/02,16:04:05+00,0": the time's own comma sits inside the quotes.
  const auto text = unquote(trim(line.substr(6)));
  if (!text) return std::nullopt;
  return gpp::parse_clock_text(*text);
}

at::Command ntp_sync(int context_id, const std::string& server) {
  at::Command c = at::make_command(fmt::format("AT+QNTP={},{},123,1", context_id, at::quoted(server)),
                                   std::chrono::seconds(5));
  c.completion = at::Completion{"+QNTP:", {}, kNtpCompletion};
  return c;
}

std::optional<NtpResult> parse_qntp(std::string_view line) {
  if (!line.starts_with("+QNTP:")) return std::nullopt;
  std::string_view rest = trim(line.substr(6));
  const std::size_t comma = rest.find(',');
  const auto error = to_int(trim(rest.substr(0, comma)));
  if (!error) return std::nullopt;
  NtpResult result{*error, std::nullopt};
  if (comma != std::string_view::npos) {
    if (const auto text = unquote(trim(rest.substr(comma + 1)))) result.time = gpp::parse_clock_text(*text);
  }
  return result;
}

}  // namespace modem::quectel
