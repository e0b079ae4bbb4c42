#include "modem/session/session_config.hpp"

#include <fmt/format.h>

namespace modem::session {

namespace q = modem::quectel;

std::vector<std::string> check_session_config(const SessionConfig& c) {
  std::vector<std::string> problems;
  auto quoted = [&](const char* what, const std::string& value, std::size_t max, bool may_be_empty) {
    if (may_be_empty && value.empty()) return;
    if (auto problem = q::check_quoted_argument(value, max))
      problems.push_back(fmt::format("{} {}", what, *problem));
  };
  auto range = [&](const char* what, long value, long lo, long hi) {
    if (value < lo || value > hi)
      problems.push_back(fmt::format("{} must be {} to {}, not {}", what, lo, hi, value));
  };

  range("PDP context id", c.pdp.context_id, 1, 16);
  quoted("APN", c.pdp.apn, q::kMaxHostName, true);
  quoted("APN username", c.pdp.username, q::kMaxUserName, true);
  quoted("APN password", c.pdp.password, q::kMaxPassword, true);

  range("MQTT client index", c.client_index, 0, q::kClientIndexCount - 1);
  quoted("upstream host", c.host, q::kMaxHostName, false);
  range("upstream port", c.port, 1, 65535);
  // {imei} and {iccid} become digits, so the template is checked as it is.
  quoted("upstream client_id", c.client_id, q::kMaxClientId, false);
  if (c.username) quoted("upstream username", *c.username, q::kMaxUserName, true);
  if (c.password) quoted("upstream password", *c.password, q::kMaxPassword, true);
  range("keepalive", c.keepalive_s, 0, 3600);  // AT+QMTCFG="keepalive": 0-3600 s
  if (c.protocol_version != 3 && c.protocol_version != 4) {
    problems.push_back(
        fmt::format("MQTT protocol version must be 3 (3.1) or 4 (3.1.1), not {}", c.protocol_version));
  }
  range("packet timeout", c.packet_timeout_s, 1, 60);  // AT+QMTCFG="timeout": 1-60 s, 0-10 retries
  range("packet retries", c.packet_retries, 0, 10);
  if (c.will) {
    if (auto problem = q::check_publish_topic(c.will->topic)) problems.push_back("will topic " + *problem);
    // The will message goes inside AT+QMTCFG="will",...,"<msg>": the same rules, but it may be empty.
    quoted("will payload", c.will->payload, q::kMaxTopic, true);
    range("will QoS", c.will->qos, 0, 2);
  }
  for (const auto& [filter, qos] : c.subscriptions) {
    if (auto problem = q::check_topic_filter(filter))
      problems.push_back(fmt::format("subscription \"{}\" {}", filter, *problem));
    range("subscription QoS", qos, 0, 2);
  }
  return problems;
}

}  // namespace modem::session
