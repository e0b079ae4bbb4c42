#include "status.hpp"

#include <fmt/format.h>

#include <cstdint>

#include "modem/gpp/gpp.hpp"
#include "modem/gpp/gpp_clock.hpp"
#include "modem/log.hpp"
#include "modem/text.hpp"

namespace cellmqttd {

namespace {

// A JSON string (RFC 8259 §7) that is valid UTF-8 (§8.1) whatever bytes `s` holds: the module's
// strings are not checked by anyone before they get here, and a consumer that meets invalid UTF-8
// may reject the whole document. Valid characters are kept as they are ("Telefónica", "中国移动");
// each byte that is not part of a well-formed sequence becomes U+FFFD, the replacement character;
// control characters (C0, DEL and C1, which terminals act on) are escaped, so printing the
// document cannot drive the terminal it is printed on.
std::string json_string(std::string_view s) {
  std::string out = "\"";
  while (!s.empty()) {
    const std::size_t length = modem::utf8::sequence_length(s);
    if (length == 0) {
      out += "\\ufffd";
      s.remove_prefix(1);
      continue;
    }
    const std::string_view sequence = s.substr(0, length);
    s.remove_prefix(length);
    const char32_t c = modem::utf8::decode(sequence);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (modem::utf8::is_control(c)) {
      out += fmt::format("\\u{:04x}", static_cast<std::uint32_t>(c));
    } else {
      out += sequence;
    }
  }
  return out + "\"";
}

// null without TLS; else how the module's clock was found valid and the last TLS failure.
std::string tls_json(const std::optional<modem::session::ModuleInfo::Tls>& tls) {
  if (!tls) return "null";
  return fmt::format("{{\"clock_source\":{},\"module_clock\":{},\"files_uploaded\":{},\"last_error\":{}}}",
                     tls->clock_source.empty() ? "null" : json_string(tls->clock_source),
                     tls->module_time ? json_string(modem::gpp::format_utc(*tls->module_time)) : "null",
                     tls->files_uploaded, tls->last_error.empty() ? "null" : json_string(tls->last_error));
}

}  // namespace

std::string status_json(const StatusSnapshot& s) {
  const auto& info = *s.info;
  const long uptime =
      info.connected_since
          ? static_cast<long>(
                std::chrono::duration_cast<std::chrono::seconds>(s.now - *info.connected_since).count())
          : 0;
  const std::string rssi = info.rssi_dbm ? std::to_string(*info.rssi_dbm) : "null";
  const std::string last_close = info.last_close
                                     ? fmt::format("{{\"code\":{},\"meaning\":{}}}", info.last_close->code,
                                                   json_string(info.last_close->meaning))
                                     : "null";
  return fmt::format(
      "{{\"state\":{},\"upstream\":{},\"model\":{},\"family\":{},\"firmware\":{},\"imei\":{},\"operator\":{},"
      "\"access_technology\":{},\"rssi_dbm\":{},\"registration\":{},\"pdp_active\":{},\"session_uptime_s\":{}"
      ","
      "\"last_close\":{},\"tls\":{},\"spool_depth\":{},\"counters\":{{\"up\":{},\"down\":{},\"dropped\":{},"
      "\"refused\":{},"
      "\"resent\":{},\"unrouted\":{}}}}}",
      json_string(modem::session::to_string(s.state)), json_string(s.upstream), json_string(info.model),
      json_string(info.family), json_string(info.revision), json_string(info.imei),
      json_string(info.operator_name), json_string(info.access_technology), rssi,
      json_string(modem::gpp::describe_registration(info.registration)), info.pdp_active ? "true" : "false",
      uptime, last_close, tls_json(info.tls), s.spool_depth, s.counters.up, s.counters.down,
      s.counters.dropped, s.counters.refused, s.counters.resent, s.counters.unrouted);
}

std::string status_line(const StatusSnapshot& s) {
  const auto& info = *s.info;
  const std::string module = info.model.empty() ? std::string("the module") : info.model;
  const std::string rssi = info.rssi_dbm ? fmt::format(", RSSI {} dBm", *info.rssi_dbm) : std::string();
  if (s.state == modem::session::State::kReady) {
    return fmt::format("connected to {} via {}{}, spool {}", s.upstream, module, rssi, s.spool_depth);
  }
  if (!s.no_module_reason.empty()) {
    // What `systemctl status` shows on a gateway whose module is missing: the reason, not "stopped".
    return fmt::format("waiting for the module: {}; spool {}", s.no_module_reason, s.spool_depth);
  }
  const std::string tls = info.tls && !info.tls->last_error.empty()
                              ? "; TLS: " + modem::printable(info.tls->last_error, 160)
                              : std::string();
  return fmt::format("{} ({}){}, spool {}{}", modem::session::to_string(s.state), module, rssi, s.spool_depth,
                     tls);
}

}  // namespace cellmqttd
